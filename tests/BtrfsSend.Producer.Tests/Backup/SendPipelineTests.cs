using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Transport;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Connection;
using Serilog.Core;

namespace BtrfsSend.Producer.Tests.Backup;

/// <summary>The argument guards; the pipeline itself runs against the real receiver in IntegrationTests/Producer and RemoteBtrfs.</summary>
public sealed class SendPipelineTests
{
    private static readonly string[] NeverRun = ["/nonexistent/btrfs", "send", "/nonexistent/snapshot"];

    private static SendPipeline Pipeline() =>
        new(new ReceiverClient(new SshArgv { Target = "nobody@192.0.2.1" }, new ToolRunner()), Logger.None);

    [Fact]
    public async Task Only_receive_and_receive_stream_requests_are_carried()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Pipeline().RunAsync(NeverRun, new HelloRequest(), keys: null));

        Assert.Contains("not hello", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compression_without_encryption_is_refused_before_anything_runs()
    {
        var request = new ReceiveRequest(BackupSet.Parse("host/root"), SnapshotName.Parse("root-20260101T000000Z"), parent: null);

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Pipeline().RunAsync(NeverRun, request, keys: null, StreamCompression.Zstd));

        Assert.Equal("compression", ex.ParamName);
    }

    [Fact]
    public void The_copy_buffer_is_one_MiB_like_the_enlarged_pipes()
    {
        Assert.Equal(PipeCapacity.Streaming, SendPipeline.BufferSize);
    }
}

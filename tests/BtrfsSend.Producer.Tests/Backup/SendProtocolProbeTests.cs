using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests.Backup;

/// <summary>The producer's probe: the kernel's stream version file (here a test file) and the real <c>btrfs send --help</c>.</summary>
public sealed class SendProtocolProbeTests
{
    private static ProducerOptions Options(SendProtoSetting proto, bool compressed) => new()
    {
        SourceTopDirPath = "/mnt/top",
        SourceSubvol = "@rootfs",
        SnapshotDirPath = "/mnt/top/snaps",
        SnapshotPrefix = "p",
        StateFilePath = "/var/lib/x/state",
        LedgerFilePath = "/var/lib/x/state.ledger",
        LockFilePath = "/var/lib/x/lock",
        SshTarget = "u@h",
        BackupSet = Core.Naming.BackupSet.Parse("h/s"),
        SendProto = proto,
        SendCompressedData = compressed,
    };

    [RealTheory("btrfs")]
    [InlineData("2\n", SendProtoSetting.Auto, true, 2, true)]
    [InlineData("1\n", SendProtoSetting.Auto, true, 1, false)]
    [InlineData(null, SendProtoSetting.Auto, false, 1, false)]
    [InlineData("2\n", SendProtoSetting.V2, false, 2, false)]
    [InlineData("1\n", SendProtoSetting.V1, false, 1, false)]
    public async Task Auto_and_2_follow_the_kernel_file_and_the_real_btrfs_send_help(string? kernelFile, SendProtoSetting proto, bool compressed, int version, bool expectCompressed)
    {
        using var dir = new TempDir("proto");
        var file = dir.Sub("send_stream_version");
        if (kernelFile is not null)
        {
            await File.WriteAllTextAsync(file, kernelFile);
        }

        var chosen = await new Producer.Backup.Prerequisites(new ToolRunner(), file).ChooseSendProtocolAsync(Options(proto, compressed));

        Assert.Equal(new SendProtocol(version, expectCompressed), chosen);
    }

    [RealFact("btrfs")]
    public async Task SEND_PROTO_2_on_a_kernel_that_only_sends_version_1_stops_the_run_before_anything_is_touched()
    {
        using var dir = new TempDir("proto");
        var file = dir.Sub("send_stream_version");
        await File.WriteAllTextAsync(file, "1\n");

        var ex = await Assert.ThrowsAsync<PrerequisiteException>(() => new Producer.Backup.Prerequisites(new ToolRunner(), file).ChooseSendProtocolAsync(Options(SendProtoSetting.V2, false)));

        Assert.Contains("this kernel only sends stream version 1", ex.Message, StringComparison.Ordinal);
    }
}

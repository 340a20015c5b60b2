using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Connection;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// The receiver's read-only verbs over ssh: <c>list &lt;set&gt;</c> for the chain and sizes,
/// <c>get &lt;set&gt; &lt;snapshot&gt;</c> for the bytes, BSF1-framed. Without manifests here, a
/// stream is trusted by (a) the BSF1 trailer (count + SHA-256 the receiver computed while
/// reading the file), (b) the byte count <c>list</c> reported, and (c) the receiver withholding
/// the trailer when the file no longer matches its manifest; then the OpenPGP MDC and the
/// send-stream check as for any source. The list line also carries the manifest's canary token
/// and zstd compression, so a restore drill over ssh compares the canary as with <c>--from</c>.
/// </summary>
internal sealed class SshSource(ReceiverClient receiver, BackupSet set) : IRestoreSource
{
    public string Description => $"{receiver.Ssh.Target} (over ssh)";

    public bool HasManifests => false;

    /// <summary>BWLIMIT / --bwlimit: the stream is read from ssh at most this fast (bytes per second); null: no limit.</summary>
    public long? ReadLimit { get; init; }

    public async Task<IReadOnlyList<RestoreLink>> ListAsync(CancellationToken cancellationToken = default)
        => (await receiver.ListAsync(set, cancellationToken))
            .Select(e => new RestoreLink(e.Snapshot, e.IsIncremental ? StreamKind.Incremental : StreamKind.Full, e.Parent, e.Bytes)
            {
                ListedCanaryToken = e.CanaryToken,
                IsListedZstd = e.Compression == StreamCompression.Zstd,
                ListedSendProto = e.SendProto,
            })
            .OrderBy(l => l.Snapshot.Value, StringComparer.Ordinal)
            .ToList();

    /// <summary>Nothing to check before streaming: the receiver checks the file against its manifest while sending.</summary>
    public Task PreverifyAsync(RestoreLink link, IProgress<long>? progress = null, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task ReadAsync(RestoreLink link, Func<CheckedEndStream, CancellationToken, Task> consume, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var request = new GetRequest(set, link.Snapshot);
        var result = await StreamPipeline.RunAsync(
            [
                new ProcessStage(receiver.Ssh.For(request.ToCommandLine())) { ChecksExitCode = false },
                new CodeStage("received stream", async stage =>
                {
                    // A receiver that stalls mid-stream is given up on after IDLE_TIMEOUT_SECONDS.
                    await using var idle = new Core.Streams.IdleTimeoutStream(stage.Input, receiver.IdleTimeout, $"the receiver at {receiver.Ssh.Target}", leaveOpen: true);
                    await using var framed = new Bsf1Reader(idle, leaveOpen: true);
                    await using var limited = Core.Streams.BandwidthLimitedStream.Wrap(framed, ReadLimit, TimeProvider.System);
                    await using var check = new CheckedEndStream(limited, link.Bytes, null, $"stream {link.StreamFileName} from {receiver.Ssh.Target}", progress);
                    await consume(check, stage.CancellationToken);
                    await check.EnsureEndAsync(stage.CancellationToken);
                }),
            ],
            cancellationToken);
        var ssh = result.Stages[0];
        var said = StderrTail.LastLines(ssh.StandardErrorTail);
        switch (result.Failure)
        {
            case FramingException framing:
                throw new IntegrityException(framing.Error == FramingError.Truncated
                    ? $"the receiver's answer to 'get {set} {link.Snapshot}' ended without its trailer: the stored file no longer matches its manifest on the backup server, or the connection was cut (receiver said: {said})"
                    : $"the receiver's answer to 'get {set} {link.Snapshot}' is damaged: {framing.Message}", framing);
            case PipeCutException cut:
                throw new TransferFailedException($"'get {set} {link.Snapshot}' ended before the stream was read (receiver said: {said})", cut);
        }

        result.ThrowIfFailed();
        if (ssh.ExitCode is { } code && code != 0)
        {
            receiver.ThrowIfFailed(code, "", ssh.StandardErrorTail, request);
        }
    }

    public string ByHandFilePath(RestoreLink link) => link.StreamFileName;

}

using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Connection;

namespace BtrfsSend.Producer.RemoteBtrfs;

/// <summary>The remote-btrfs verbs without a stream: open-luks (key on ssh's stdin), list-received, prune-received, close-luks.</summary>
internal sealed class RemoteBtrfsClient(ReceiverClient receiver)
{
    public ReceiverClient Receiver { get; } = receiver;

    /// <summary>Sends the key on stdin only: it is in neither ssh's argv nor the remote command line.</summary>
    public Task OpenLuksAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken = default)
        => RunAsync(new OpenLuksRequest(), key, cancellationToken);

    public async Task<IReadOnlyList<ListEntryLine>> ListReceivedAsync(BackupSet set, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new ListReceivedRequest(set), ReadOnlyMemory<byte>.Empty, cancellationToken);
        var entries = new List<ListEntryLine>();
        foreach (var line in result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var entry = ListEntryLine.Parse(line);
            entries.Add(entry.Value ?? throw new TransferFailedException($"the receiver's list-received of {set} has a line this producer cannot read: {entry.Error}"));
        }

        return entries;
    }

    public Task PruneReceivedAsync(BackupSet set, CancellationToken cancellationToken = default)
        => RunAsync(new PruneReceivedRequest(set), ReadOnlyMemory<byte>.Empty, cancellationToken);

    public Task CloseLuksAsync(CancellationToken cancellationToken = default)
        => RunAsync(new CloseLuksRequest(), ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>Through the receiver client, so IDLE_TIMEOUT_SECONDS bounds the wait for every answer.</summary>
    private Task<ToolResult> RunAsync(Request request, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
        => Receiver.RunAsync(request, stdin, cancellationToken);
}

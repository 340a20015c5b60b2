using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// One <c>btrfs receive</c> into a set's directory, begun by <see cref="ReceivedStore.BeginReceiveAsync"/>.
/// A read-only subvolume cannot be moved to another directory (EROFS), and making it writable
/// clears its received UUID, so btrfs receive writes straight into the set's directory; every
/// entry that was not there at the start is this receive's. <see cref="KeepAsync"/> keeps it only
/// when it is exactly the subvolume named <see cref="Snapshot"/>, read-only, with a received UUID;
/// disposing an attempt that was not kept deletes everything it created.
/// </summary>
internal sealed class ReceiveAttempt : IAsyncDisposable
{
    private readonly ReceivedStore _store;
    private readonly HashSet<string> _before;
    private bool _kept;

    internal ReceiveAttempt(ReceivedStore store, string setDirPath, SnapshotName snapshot)
    {
        _store = store;
        SetDirPath = setDirPath;
        Snapshot = snapshot;
        TargetPath = Path.Combine(setDirPath, snapshot.Value);
        _before = Directory.GetFileSystemEntries(setDirPath).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The set's directory: <c>btrfs receive</c>'s destination (and its chroot).</summary>
    public string SetDirPath { get; }

    public SnapshotName Snapshot { get; }

    /// <summary>The subvolume the receive must create.</summary>
    public string TargetPath { get; }

    /// <summary>
    /// Checks what the finished <c>btrfs receive</c> created and keeps it only if it is exactly the
    /// finished subvolume <see cref="Snapshot"/>: directory fsync, then the set's last-received
    /// file names it. Otherwise nothing is kept (the dispose deletes it) and the verdict says why.
    /// </summary>
    public async Task<ReceiveVerdict> KeepAsync(CancellationToken cancellationToken)
    {
        var created = Created();
        if (created.Count != 1 || created[0] != TargetPath)
        {
            return new ReceiveVerdict(created.Select(Path.GetFileName).ToList()!, null);
        }

        var facts = await _store.ShowAsync(TargetPath, cancellationToken);
        if (!facts.IsComplete)
        {
            return new ReceiveVerdict([Snapshot.Value], facts);
        }

        DurableFiles.FsyncDirectory(SetDirPath);
        DurableFiles.Replace(Path.Combine(SetDirPath, ReceivedStore.LastReceivedFileName), System.Text.Encoding.ASCII.GetBytes(Snapshot.Value + "\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _kept = true;
        return new ReceiveVerdict([Snapshot.Value], facts);
    }

    /// <summary>Deletes everything this receive created unless it was kept.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_kept)
        {
            return;
        }

        foreach (var entry in Created())
        {
            await _store.DeleteSubvolumeAsync(entry);
        }
    }

    private List<string> Created() => Directory.GetFileSystemEntries(SetDirPath).Where(e => !_before.Contains(e)).ToList();
}

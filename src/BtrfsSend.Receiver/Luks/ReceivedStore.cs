using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Retention;
using Serilog;

namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// The received subvolumes of remote-btrfs: <c>RECEIVED_ROOT/&lt;set&gt;/&lt;snapshot&gt;</c> on the opened
/// LUKS volume. Only a read-only subvolume with a received UUID and a valid snapshot name is a
/// finished receive (docs/architecture.md); anything else a receive created is deleted, by the
/// receive itself (<see cref="ReceiveAttempt"/>) or, after a SIGKILL, by the next receive into the
/// set. Per set, <see cref="LastReceivedFileName"/> names the last snapshot acknowledged to the
/// client, which pruning never deletes. The caller holds the volume's lock and has created the
/// set's directory (never through a symbolic link).
/// </summary>
internal sealed class ReceivedStore(string rootDirPath, ToolRunner tools, ILogger log)
{
    /// <summary>Per-set file naming the last snapshot this receiver answered OK for: pinned by prune.</summary>
    public const string LastReceivedFileName = ".last-received";

    public string RootDirPath { get; } = rootDirPath;

    public string SetDirPath(BackupSet set) => Path.Combine(RootDirPath, set.Value);

    /// <summary>What <c>btrfs subvolume show</c> says about <paramref name="path"/> (throws when it is no subvolume).</summary>
    public async Task<ReceivedSubvolume> ShowAsync(string path, CancellationToken cancellationToken)
    {
        var show = await tools.RunAsync(BtrfsArgv.ShowSubvolume(path), ReadOnlyMemory<byte>.Empty, cancellationToken);
        return ReceivedSubvolume.Parse(show.StandardOutput);
    }

    /// <summary>True when <paramref name="snapshot"/> is a finished receive in the set.</summary>
    public async Task<bool> IsCompleteAsync(BackupSet set, SnapshotName snapshot, CancellationToken cancellationToken)
    {
        var path = Path.Combine(SetDirPath(set), snapshot.Value);
        return Directory.Exists(path) && (await ShowAsync(path, cancellationToken)).IsComplete;
    }

    /// <summary>The set's finished receives (read-only, received UUID, a valid snapshot name), oldest first.</summary>
    public async Task<IReadOnlyList<(SnapshotName Name, ReceivedSubvolume Subvolume)>> ListCompleteAsync(BackupSet set, CancellationToken cancellationToken)
    {
        var dir = SetDirPath(set);
        var result = new List<(SnapshotName, ReceivedSubvolume)>();
        if (!Directory.Exists(dir))
        {
            return result;
        }

        foreach (var path in Directory.GetDirectories(dir))
        {
            var check = SnapshotName.Check(Path.GetFileName(path));
            if (check.Value is null)
            {
                continue;
            }

            var facts = await ShowAsync(path, cancellationToken);
            if (facts.IsComplete)
            {
                result.Add((check.Value, facts));
            }
        }

        return [.. result.OrderBy(r => r.Item2.ReceivedAt).ThenBy(r => r.Item1.Value, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Applies <paramref name="keep"/> to the set's finished receives by their receive time; the
    /// last snapshot acknowledged to the client is always kept. Returns what was deleted.
    /// </summary>
    public async Task<IReadOnlyList<RetentionDecision>> PruneAsync(BackupSet set, RetentionPolicy keep, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dir = SetDirPath(set);
        var received = await ListCompleteAsync(set, cancellationToken);
        var items = received.Select(r => new RetentionItem(r.Name.Value, r.Subvolume.ReceivedAt ?? DateTimeOffset.UnixEpoch)).ToList();
        var pinned = new Dictionary<string, string>(StringComparer.Ordinal);
        if (ReadLastReceived(set) is { } last)
        {
            pinned[last] = "the last snapshot acknowledged to the client";
        }

        var plan = RetentionPlanner.Plan(items, keep, now, parentOf: null, pinned: pinned);
        var deleted = new List<RetentionDecision>();
        foreach (var decision in plan.Deleted)
        {
            await tools.RunAsync(BtrfsArgv.DeleteSubvolume(Path.Combine(dir, decision.Id)), ReadOnlyMemory<byte>.Empty, cancellationToken);
            log.Information("set {Set}: pruned received {Snapshot} ({Reasons})", set, decision.Id, string.Join("; ", decision.Reasons));
            deleted.Add(decision);
        }

        return deleted;
    }

    /// <summary>
    /// Begins a receive of <paramref name="snapshot"/> into the set's directory: first deletes what
    /// a receive killed by SIGKILL left (a subvolume that is writable or has no received UUID is
    /// never a backup; the volume lock guarantees no receive is running), then records what the
    /// directory holds, so that everything that appears later is this receive's to keep or delete.
    /// </summary>
    public async Task<ReceiveAttempt> BeginReceiveAsync(BackupSet set, SnapshotName snapshot, CancellationToken cancellationToken)
    {
        var dir = SetDirPath(set);
        foreach (var path in Directory.GetDirectories(dir))
        {
            var show = await tools.TryRunAsync(BtrfsArgv.ShowSubvolume(path), ReadOnlyMemory<byte>.Empty, cancellationToken);
            if (show.IsSuccess && !ReceivedSubvolume.Parse(show.StandardOutput).IsComplete)
            {
                log.Warning("deleting {Path}: a partial subvolume left by an interrupted receive", NameText.Printable(path));
                await DeleteSubvolumeAsync(path);
            }
        }

        return new ReceiveAttempt(this, dir, snapshot);
    }

    private string? ReadLastReceived(BackupSet set)
    {
        var path = Path.Combine(SetDirPath(set), LastReceivedFileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>Deletes a subvolume a receive left; a failure is logged, and the next receive into the set retries.</summary>
    internal async Task DeleteSubvolumeAsync(string path)
    {
        var deleted = await tools.TryRunAsync(BtrfsArgv.DeleteSubvolume(path), ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        if (!deleted.IsSuccess)
        {
            log.Error("could not delete the partial subvolume {Path}: {Error}; the next receive into this set retries", NameText.Printable(path), deleted.StandardErrorTail.Trim());
        }
    }
}

using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// Pure choices of restore and verify: which chain, from the stored links alone. A broken chain
/// is refused naming the link that is missing, before anything is read or received.
/// </summary>
internal static class RestorePlan
{
    /// <summary>
    /// The chain (full first) of <paramref name="snapshot"/>, or of the newest stored snapshot when
    /// null. Throws <see cref="RefusedException"/> for an unknown name and
    /// <see cref="IntegrityException"/> for a broken chain.
    /// </summary>
    public static IReadOnlyList<RestoreLink> ChainOf(IReadOnlyList<RestoreLink> stored, SnapshotName? snapshot, BackupSet set, string sourceDescription)
    {
        if (stored.Count == 0)
        {
            throw new RefusedException("bad-snapshot", $"set {set} has no stored streams at {sourceDescription}");
        }

        var target = snapshot ?? stored.MaxBy(l => l.Snapshot.TimestampUtc)!.Snapshot;
        var byName = stored.ToDictionary(l => l.Snapshot.Value, StringComparer.Ordinal);
        if (!byName.ContainsKey(target.Value))
        {
            throw new RefusedException("bad-snapshot", $"snapshot {target} is not stored in set {set} at {sourceDescription}; 'restore --list' shows what is");
        }

        return Resolver(stored).ChainOf(target.Value) switch
        {
            ResolvedChain chain => chain.Links.Select(l => byName[l.Snapshot]).ToList(),
            BrokenChain broken => throw new IntegrityException(
                $"{broken.Message}{(broken.Missing is { } missing ? $" (missing link: {missing})" : "")}; nothing was restored"),
            _ => throw new InvalidOperationException("unknown chain result"),
        };
    }

    /// <summary>Every stored snapshot with its chain (full first), or why it cannot be restored.</summary>
    public static IReadOnlyList<RestorableSnapshot> Restorable(IReadOnlyList<RestoreLink> stored)
    {
        var byName = stored.ToDictionary(l => l.Snapshot.Value, StringComparer.Ordinal);
        var resolver = Resolver(stored);
        return stored.OrderBy(l => l.Snapshot.Value, StringComparer.Ordinal)
            .Select(l => resolver.ChainOf(l.Snapshot.Value) switch
            {
                ResolvedChain chain => new RestorableSnapshot(l, chain.Links.Select(c => byName[c.Snapshot]).ToList(), null),
                BrokenChain broken => new RestorableSnapshot(l, null, broken.Message),
                _ => throw new InvalidOperationException("unknown chain result"),
            })
            .ToList();
    }

    private static ChainResolver Resolver(IReadOnlyList<RestoreLink> stored) => new(stored.Select(l => l.ToChainLink()));
}

using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// Step 4 of a run (btrfs-send-backup(8)), as a pure function: the parent is the state file's snapshot if it still
/// exists locally AND the receiver lists it with an unbroken chain; a full otherwise, or when the
/// chain's full is older than FULL_INTERVAL_DAYS.
/// </summary>
internal static class ParentChooser
{
    public static ParentDecision Choose(
        SnapshotName? state,
        IReadOnlySet<string> localSnapshots,
        IReadOnlyList<ListEntryLine> remote,
        int fullIntervalDays,
        DateTimeOffset now)
    {
        if (state is null)
        {
            return new ParentDecision(null, "full: no previous snapshot was acknowledged (STATE_FILE missing or empty)");
        }

        if (!localSnapshots.Contains(state.Value))
        {
            return new ParentDecision(null, $"full: the last acknowledged snapshot {state} no longer exists locally");
        }

        var byName = remote.ToDictionary(e => e.Snapshot.Value, StringComparer.Ordinal);
        if (!byName.TryGetValue(state.Value, out var entry))
        {
            return new ParentDecision(null, $"full: the receiver does not list {state}");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (entry.IsIncremental)
        {
            if (!seen.Add(entry.Snapshot.Value))
            {
                return new ParentDecision(null, $"full: the chain of {state} is broken on the receiver (its parents loop back to {entry.Snapshot})");
            }

            if (!byName.TryGetValue(entry.Parent!.Value, out var parent))
            {
                return new ParentDecision(null, $"full: the chain of {state} is broken on the receiver (missing {entry.Parent})");
            }

            entry = parent;
        }

        var age = now.UtcDateTime - entry.Snapshot.TimestampUtc;
        if (age > TimeSpan.FromDays(fullIntervalDays))
        {
            return new ParentDecision(null, $"full: the last full stream {entry.Snapshot} is {(int)age.TotalDays} days old (FULL_INTERVAL_DAYS={fullIntervalDays})");
        }

        return new ParentDecision(state, $"incremental against {state} (chain's full {entry.Snapshot} is {(int)age.TotalDays} days old)");
    }
}

using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// Prunes local snapshots with LOCAL_KEEP_* (docs/retention.md): time = the snapshot's own time,
/// never the STATE_FILE's snapshot (the next incremental's parent). An empty policy deletes nothing.
/// </summary>
internal sealed class LocalPruner(LocalSnapshots snapshots, RetentionPolicy policy, ILogger log)
{
    public async Task<int> PruneAsync(SnapshotName? pinned, DateTimeOffset now, bool dryRun = false)
    {
        var items = snapshots.List().Select(s => new RetentionItem(s.Value, new DateTimeOffset(s.TimestampUtc, TimeSpan.Zero))).ToList();
        var pins = pinned is null
            ? null
            : new Dictionary<string, string>(StringComparer.Ordinal) { [pinned.Value] = "STATE_FILE: parent of the next incremental" };
        var plan = RetentionPlanner.Plan(items, policy, now, parentOf: null, pinned: pins);
        var deleted = 0;
        foreach (var decision in plan.Deleted)
        {
            if (dryRun)
            {
                log.Information("would delete local snapshot {Snapshot}: {Reasons}", decision.Id, string.Join(", ", decision.Reasons));
                continue;
            }

            await snapshots.DeleteAsync(SnapshotName.Parse(decision.Id));
            deleted++;
            log.Information("deleted local snapshot {Snapshot}: {Reasons}", decision.Id, string.Join(", ", decision.Reasons));
        }

        return deleted;
    }
}

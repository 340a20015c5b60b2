using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Receiver.Pruning;

/// <summary>
/// Applies the receiver's own retention policy to one set (DESIGN.md §7): time = the
/// receiver-recorded <c>received_at</c>, always the newest, then every ancestor of every kept
/// stream. Deletes a stream file and then its manifest (manifest last, so an interrupted prune
/// leaves at worst a manifest whose stream is gone, which <c>check</c> reports). Refuses to
/// touch a set whose state it cannot fully read.
/// </summary>
internal sealed class SetPruner(StreamStore store, RetentionPolicy policy, ILogger log, TimeProvider clock)
{
    public PruneOutcome Prune(BackupSet set, bool dryRun, TextWriter output)
    {
        var dir = store.SetDirPath(set);
        if (!Directory.Exists(dir))
        {
            return new PruneOutcome(set.Value, 0, 0, 0, $"set '{set}' does not exist under {store.RootDirPath}");
        }

        using var setLock = DirectoryLock.TryAcquire(store.LockFilePath(set));
        if (setLock is null)
        {
            return new PruneOutcome(set.Value, 0, 0, 0, $"set '{set}' is busy (an upload holds its lock); pruned nothing, the next run will");
        }

        if (!dryRun)
        {
            foreach (var stale in DurableFiles.DeleteStaleTemps(dir))
            {
                log.Warning("set {Set}: removed stale temp file {Path}", set, stale);
            }
        }

        var contents = store.Read(set);
        if (!contents.IsReadable)
        {
            foreach (var problem in contents.Problems)
            {
                log.Error("set {Set}: {Problem}", set, problem);
            }

            return new PruneOutcome(set.Value, contents.Streams.Count, 0, 0,
                $"set '{set}' has {contents.Problems.Count} unreadable or inconsistent manifest(s); deleted nothing (first: {contents.Problems[0]})");
        }

        var items = contents.Streams.Select(s => new RetentionItem(s.Manifest.Snapshot.Value, new DateTimeOffset(s.Manifest.ReceivedAtUtc, TimeSpan.Zero))).ToList();
        var plan = RetentionPlanner.Plan(items, policy, clock.GetUtcNow(), contents.Chains().ParentOf);
        foreach (var problem in plan.Problems)
        {
            log.Warning("set {Set}: {Problem}", set, problem);
        }

        var bySnapshot = contents.Streams.ToDictionary(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal);
        if (dryRun)
        {
            output.WriteLine($"# set {set}: policy {Describe(policy)}");
            output.Write(plan.Render());
            var wouldFree = plan.Deleted.Sum(d => bySnapshot[d.Id].Manifest.StreamBytes);
            output.WriteLine($"# set {set}: would keep {plan.Kept.Count()}, delete {plan.Deleted.Count()}, free {wouldFree} bytes (dry run: nothing deleted)");
            return new PruneOutcome(set.Value, plan.Kept.Count(), plan.Deleted.Count(), wouldFree, null);
        }

        long freed = 0;
        var deleted = 0;
        foreach (var decision in plan.Deleted)
        {
            var stream = bySnapshot[decision.Id];
            File.Delete(stream.StreamFilePath);
            File.Delete(stream.ManifestFilePath);
            freed += stream.Manifest.StreamBytes;
            deleted++;
            log.Information("set {Set}: deleted {Snapshot} ({Bytes} bytes): {Reasons}", set, decision.Id, stream.Manifest.StreamBytes, string.Join(", ", decision.Reasons));
        }

        if (deleted > 0)
        {
            DurableFiles.FsyncDirectory(dir);
        }

        log.Information("set {Set}: kept {Kept}, deleted {Deleted}, freed {Bytes} bytes", set, plan.Kept.Count(), deleted, freed);
        return new PruneOutcome(set.Value, plan.Kept.Count(), deleted, freed, null);
    }

    public static string Describe(RetentionPolicy policy) => policy.IsEmpty
        ? "empty (KEEP_* unset): nothing is deleted"
        : string.Join(' ', new[]
        {
            policy.Hourly > 0 ? $"KEEP_HOURLY={policy.Hourly}" : null,
            policy.Daily > 0 ? $"KEEP_DAILY={policy.Daily}" : null,
            policy.Weekly > 0 ? $"KEEP_WEEKLY={policy.Weekly}" : null,
            policy.Monthly > 0 ? $"KEEP_MONTHLY={policy.Monthly}" : null,
            policy.Yearly > 0 ? $"KEEP_YEARLY={policy.Yearly}" : null,
            policy.Within is { } w ? $"KEEP_WITHIN={RetentionPolicy.FormatDuration(w)}" : null,
        }.Where(p => p is not null));
}

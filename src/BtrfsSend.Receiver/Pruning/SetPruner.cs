using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Receiver.Pruning;

/// <summary>
/// Applies the receiver's own retention policy to one set (docs/retention.md): time = the
/// receiver-recorded <c>received_at</c>, always the newest, then every ancestor of every kept
/// stream. Deletes through <see cref="StreamStore.Delete"/>, which keeps the safe order (manifest
/// last). Refuses to touch a set whose state it cannot fully read.
/// </summary>
/// <remarks>A server clock that jumps never makes prune delete more (see <see cref="RetentionClock"/>).</remarks>
internal sealed class SetPruner(StreamStore store, RetentionPolicy policy, ILogger log, TimeProvider clock, TimeSpan? maxClockSkew = null)
{
    private static readonly TimeSpan DefaultMaxClockSkew = new ReceiverOptions().MaxClockSkew;

    public PruneOutcome Prune(BackupSet set, bool dryRun, TextWriter output)
    {
        var dir = store.SetDirPath(set);
        if (!Directory.Exists(dir))
        {
            return new PruneOutcome(set.Value, 0, 0, 0, $"set '{set}' does not exist under {store.RootDirPath}");
        }

        using var setLock = store.TryLock(set);
        if (setLock is null)
        {
            return new PruneOutcome(set.Value, 0, 0, 0, $"set '{set}' is busy (an upload holds its lock); pruned nothing, the next run will");
        }

        if (!dryRun)
        {
            foreach (var stale in store.DeleteStaleTemps(setLock, set))
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

        var plan = Plan(set, contents);
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
        var reasons = plan.Deleted.ToDictionary(d => d.Id, d => string.Join(", ", d.Reasons), StringComparer.Ordinal);
        store.Delete(setLock, set, plan.Deleted.Select(d => bySnapshot[d.Id]), stream =>
        {
            freed += stream.Manifest.StreamBytes;
            deleted++;
            log.Information("set {Set}: deleted {Snapshot} ({Bytes} bytes): {Reasons}", set, stream.Manifest.Snapshot.Value, stream.Manifest.StreamBytes, reasons[stream.Manifest.Snapshot.Value]);
        });

        log.Information("set {Set}: kept {Kept}, deleted {Deleted}, freed {Bytes} bytes", set, plan.Kept.Count(), deleted, freed);
        return new PruneOutcome(set.Value, plan.Kept.Count(), deleted, freed, null);
    }

    /// <summary>
    /// The retention plan for <paramref name="contents"/>: the policy at the clock (or, when the
    /// clock is behind the newest received_at, at that), with unproven chains and the newest name
    /// pinned; its problems and a clock that looks behind are logged.
    /// </summary>
    private RetentionPlan Plan(BackupSet set, SetContents contents)
    {
        var items = contents.Streams.Select(s => new RetentionItem(s.Manifest.Snapshot.Value, new DateTimeOffset(s.Manifest.ReceivedAtUtc, TimeSpan.Zero))).ToList();
        var clockNow = clock.GetUtcNow();
        if (RetentionClock.FutureWarning(contents.Streams, clockNow) is { } ahead)
        {
            log.Warning("set {Set}: {Problem}", set, ahead);
        }

        var now = RetentionClock.WindowEnd(contents.Streams, clockNow);
        var parentOf = contents.Chains().ParentOf;
        var plan = RetentionPlanner.Plan(items, policy, now, parentOf);
        var pins = UnprovenPins(contents, plan);
        foreach (var (id, why) in RetentionClock.NewestNamePin(contents.Streams, maxClockSkew ?? DefaultMaxClockSkew))
        {
            pins.TryAdd(id, why);
        }

        if (pins.Count > 0)
        {
            plan = RetentionPlanner.Plan(items, policy, now, parentOf, pins);
        }

        foreach (var problem in plan.Problems)
        {
            log.Warning("set {Set}: {Problem}", set, problem);
        }

        return plan;
    }

    /// <summary>
    /// The streams kept because a chain is unproven (docs/migration.md): <c>adopt</c> infers the
    /// parent of a scripts' incremental whose manifest named none, and the receiver cannot decrypt
    /// the streams to check it. If the inference were wrong, the real parent is some older stream
    /// of the set, and deleting it would lose the only copy needed to restore every kept snapshot
    /// built on that link. So every stream older than an inferred link in the chain of a kept
    /// stream is kept too. No proof is recorded on the server (the producer's <c>verify</c> cannot
    /// write there); the streams go the normal way once no kept chain has an inferred link.
    /// </summary>
    internal static Dictionary<string, string> UnprovenPins(SetContents contents, RetentionPlan plan)
    {
        var pins = new Dictionary<string, string>(StringComparer.Ordinal);
        var bySnapshot = contents.Streams.ToDictionary(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal);
        Core.Manifests.Manifest? newestInferred = null;
        foreach (var kept in plan.Kept)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var at = bySnapshot.GetValueOrDefault(kept.Id); at is not null && seen.Add(at.Manifest.Snapshot.Value);
                 at = at.Manifest.Parent is { } p ? bySnapshot.GetValueOrDefault(p.Value) : null)
            {
                if (at.Manifest.ParentInferred && (newestInferred is null || at.Manifest.Snapshot.TimestampUtc > newestInferred.Snapshot.TimestampUtc))
                {
                    newestInferred = at.Manifest;
                }
            }
        }

        if (newestInferred is not null)
        {
            foreach (var stream in contents.Streams.Where(s => s.Manifest.Snapshot.TimestampUtc < newestInferred.Snapshot.TimestampUtc))
            {
                pins[stream.Manifest.Snapshot.Value] = $"chain unproven: older than {newestInferred.Snapshot}, whose parent adopt inferred (any older stream may be its real parent)";
            }
        }

        return pins;
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

using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Pruning;
using Serilog;

namespace BtrfsSend.Receiver.Offsite;

/// <summary>
/// <c>prune --offsite</c>: the receiver's retention policy (KEEP_*) applied to the bucket's copies
/// of one set, read from the manifests in the bucket (time = their received_at, as locally). A
/// stream the plan would delete whose objects may still be locked (<see cref="LockReasonAsync"/>)
/// is pinned instead ("offsite: locked until ..."), which keeps its ancestors too; the ancestors
/// of every kept stream are never deleted. Deleting removes every version and delete
/// marker of the stream's key, then of its manifest's (manifest last, as locally). Objects that
/// are not a manifest-backed stream of the set (a stream a killed replicate left without its
/// manifest, names that are not ours) are left alone.
/// </summary>
internal sealed class OffsitePruner(ObjectStoreOptions options, IAmazonS3 client, RetentionPolicy policy, ILogger log, TimeProvider clock)
{
    private readonly ObjectLayout _layout = new(options.Prefix);

    public async Task<PruneOutcome> PruneAsync(BackupSet set, bool dryRun, TextWriter output, CancellationToken cancellationToken)
    {
        var versions = await ListVersionsAsync(set, cancellationToken);
        var byKey = versions.GroupBy(v => v.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var problems = new List<string>();
        var streams = await ReadStreamsAsync(set, byKey, problems, cancellationToken);

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                log.Error("offsite set {Set}: {Problem}", set, problem);
            }

            return new PruneOutcome(set.Value, streams.Count, 0, 0, $"offsite set '{set}' has {problems.Count} unreadable or inconsistent manifest(s) in bucket {options.Bucket}; deleted nothing (first: {problems[0]})");
        }

        var contents = new SetContents(set, _layout.SetPrefix(set), streams, [], [], []);
        var items = streams.Select(s => new RetentionItem(s.Manifest.Snapshot.Value, new DateTimeOffset(s.Manifest.ReceivedAtUtc, TimeSpan.Zero))).ToList();
        var now = clock.GetUtcNow();
        var parentOf = contents.Chains().ParentOf;
        var plan = RetentionPlanner.Plan(items, policy, now, parentOf);
        var pins = SetPruner.UnprovenPins(contents, plan);
        var bySnapshot = streams.ToDictionary(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal);
        if (plan.Deleted.Any() && await BucketLock.IsEnabledAsync(client, options.Bucket, cancellationToken))
        {
            foreach (var decision in plan.Deleted)
            {
                if (await LockReasonAsync(byKey, bySnapshot[decision.Id], now, cancellationToken) is { } reason)
                {
                    pins[decision.Id] = reason;
                }
            }
        }

        if (pins.Count > 0)
        {
            plan = RetentionPlanner.Plan(items, policy, now, parentOf, pins);
        }

        foreach (var problem in plan.Problems)
        {
            log.Warning("offsite set {Set}: {Problem}", set, problem);
        }

        if (dryRun)
        {
            output.WriteLine($"# offsite set {set} in bucket {options.Bucket}: policy {SetPruner.Describe(policy)}");
            output.Write(plan.Render());
            var wouldFree = plan.Deleted.Sum(d => bySnapshot[d.Id].Manifest.StreamBytes);
            output.WriteLine($"# offsite set {set}: would keep {plan.Kept.Count()}, delete {plan.Deleted.Count()}, free {wouldFree} bytes (dry run: nothing deleted)");
            return new PruneOutcome(set.Value, plan.Kept.Count(), plan.Deleted.Count(), wouldFree, null);
        }

        return await DeleteNewestFirstAsync(set, plan, bySnapshot, byKey, parentOf, cancellationToken);
    }

    /// <summary>
    /// The set's streams in the bucket: every latest manifest that reads as a manifest of its own
    /// key and whose stream object exists; anything else goes into <paramref name="problems"/>.
    /// </summary>
    private async Task<List<StoredStream>> ReadStreamsAsync(BackupSet set, Dictionary<string, List<S3ObjectVersion>> byKey, List<string> problems, CancellationToken cancellationToken)
    {
        var streams = new List<StoredStream>();
        foreach (var (key, list) in byKey)
        {
            if (_layout.Parse(set, key) is not { IsManifest: true } stored || list.FirstOrDefault(v => v.IsLatest == true) is not { IsDeleteMarker: not true } latest)
            {
                continue;
            }

            using var get = await client.GetObjectAsync(new GetObjectRequest { BucketName = options.Bucket, Key = key, VersionId = latest.VersionId }, cancellationToken);
            var buffer = new MemoryStream();
            await get.ResponseStream.CopyToAsync(buffer, cancellationToken);
            var parsed = ManifestReader.Parse(buffer.ToArray(), key);
            if (!parsed.IsValid || parsed.Manifest!.Set != set || parsed.Manifest.Snapshot != stored.Snapshot)
            {
                problems.Add($"{key}: not a manifest of {set}/{stored.Snapshot}{(parsed.IsValid ? "" : ": " + string.Join("; ", parsed.Errors))}");
                continue;
            }

            var streamKey = _layout.StreamKey(set, parsed.Manifest.Snapshot, parsed.Manifest.Kind);
            if (!byKey.TryGetValue(streamKey, out var streamVersions) || streamVersions.All(v => v.IsDeleteMarker == true))
            {
                problems.Add($"{key}: its stream object {streamKey} is missing");
                continue;
            }

            streams.Add(new StoredStream(parsed.Manifest, key, streamKey));
        }

        return streams;
    }

    /// <summary>
    /// Deletes every version of each stream the plan deletes, newest first, so a child goes before
    /// its parent: when the server refuses a deletion (a lock this host could not see, or its
    /// clock is ahead of the server's), the stream's ancestors stay too, and no kept object is
    /// left without its chain.
    /// </summary>
    private async Task<PruneOutcome> DeleteNewestFirstAsync(BackupSet set, RetentionPlan plan, Dictionary<string, StoredStream> bySnapshot, Dictionary<string, List<S3ObjectVersion>> byKey, Func<string, string?> parentOf, CancellationToken cancellationToken)
    {
        long freed = 0;
        var deleted = 0;
        var refused = new List<string>();
        var spared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var decision in plan.Deleted.OrderByDescending(d => bySnapshot[d.Id].Manifest.ReceivedAtUtc).ThenByDescending(d => d.Id, StringComparer.Ordinal))
        {
            var stream = bySnapshot[decision.Id];
            if (spared.Contains(decision.Id))
            {
                log.Warning("offsite set {Set}: kept {Snapshot}: a stream that depends on it could not be deleted", set, decision.Id);
                continue;
            }

            if (await DeleteEveryVersionAsync(byKey, stream, cancellationToken) is { } refusal)
            {
                refused.Add($"{decision.Id} ({refusal})");
                var parent = parentOf(decision.Id);
                while (parent is not null && spared.Add(parent))
                {
                    parent = parentOf(parent);
                }

                continue;
            }

            freed += stream.Manifest.StreamBytes;
            deleted++;
            log.Information("offsite set {Set}: deleted {Snapshot} ({Bytes} bytes, every version): {Reasons}", set, decision.Id, stream.Manifest.StreamBytes, string.Join(", ", decision.Reasons));
        }

        var kept = plan.Kept.Count() + plan.Deleted.Count() - deleted;
        log.Information("offsite set {Set}: kept {Kept}, deleted {Deleted}, freed {Bytes} bytes", set, kept, deleted, freed);
        return new PruneOutcome(set.Value, kept, deleted, freed, refused.Count == 0 ? null
            : $"offsite set '{set}': bucket {options.Bucket} refused deleting {string.Join(", ", refused)}; kept with their ancestors (still locked on the server: is this host's clock ahead of the server's?)");
    }

    /// <summary>
    /// Why the stream's objects may still be locked, or null when no lock can hold at
    /// <paramref name="now"/>. The lock end is the later of the rule replicate writes with
    /// (received_at + S3_LOCK_DAYS, but at least a day after the copy, taken as the version's
    /// LastModified) and the retention the server reports for any version (HEAD, else
    /// GetObjectRetention): a server that reports no retention cannot shorten the rule, and a
    /// longer retention set by someone else is honoured. A legal hold keeps the stream.
    /// </summary>
    private async Task<string?> LockReasonAsync(Dictionary<string, List<S3ObjectVersion>> byKey, StoredStream stream, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var byPolicy = new DateTimeOffset(stream.Manifest.ReceivedAtUtc, TimeSpan.Zero).AddDays(options.LockDays);
        (DateTimeOffset Until, string Source) latest = (byPolicy, "received_at + S3_LOCK_DAYS");
        foreach (var key in new[] { stream.StreamFilePath, stream.ManifestFilePath })
        {
            foreach (var version in (byKey.GetValueOrDefault(key) ?? []).Where(v => v.IsDeleteMarker != true))
            {
                var copied = version.LastModified is { } modified ? new DateTimeOffset(DateTime.SpecifyKind(modified.ToUniversalTime(), DateTimeKind.Utc)) : (DateTimeOffset?)null;
                if (copied + Replicator.MinimumLock is { } minimum && minimum > latest.Until)
                {
                    latest = (minimum, "a day after the copy");
                }

                var (reported, hold) = await BucketLock.ReportedAsync(client, options.Bucket, key, version.VersionId, cancellationToken);
                if (hold)
                {
                    return $"offsite: legal hold on {key}";
                }

                if (reported is { } until && until > latest.Until)
                {
                    latest = (until, "the server's retention");
                }
            }
        }

        return latest.Until > now
            ? $"offsite: locked until {latest.Until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} ({latest.Source})"
            : null;
    }

    /// <summary>Deletes every version of the stream's object, then of its manifest's; returns the server's refusal (403), or null when all went.</summary>
    private async Task<string?> DeleteEveryVersionAsync(Dictionary<string, List<S3ObjectVersion>> byKey, StoredStream stream, CancellationToken cancellationToken)
    {
        foreach (var key in new[] { stream.StreamFilePath, stream.ManifestFilePath })
        {
            foreach (var version in byKey.GetValueOrDefault(key) ?? [])
            {
                try
                {
                    await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = options.Bucket, Key = key, VersionId = version.VersionId }, cancellationToken);
                }
                catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.Forbidden)
                {
                    return $"{e.ErrorCode}: {e.Message.Split('\n')[0].Trim()}";
                }
            }
        }

        return null;
    }

    private async Task<List<S3ObjectVersion>> ListVersionsAsync(BackupSet set, CancellationToken cancellationToken)
    {
        var result = new List<S3ObjectVersion>();
        var request = new ListVersionsRequest { BucketName = options.Bucket, Prefix = _layout.SetPrefix(set) };
        while (true)
        {
            var page = await client.ListVersionsAsync(request, cancellationToken);
            result.AddRange(page.Versions ?? []);
            if (page.IsTruncated != true)
            {
                return result;
            }

            request.KeyMarker = page.NextKeyMarker;
            request.VersionIdMarker = page.NextVersionIdMarker;
        }
    }
}

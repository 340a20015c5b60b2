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
/// stream the plan would delete whose object (any version of its stream or manifest) is still
/// locked is pinned instead ("offsite: locked until ..."), which keeps its ancestors too; the
/// ancestors of every kept stream are never deleted. Deleting removes every version and delete
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
        foreach (var decision in plan.Deleted)
        {
            var stream = bySnapshot[decision.Id];
            var lockedUntil = await LockedUntilAsync(byKey, [stream.StreamFilePath, stream.ManifestFilePath], now, cancellationToken);
            if (lockedUntil is { } until)
            {
                pins[decision.Id] = $"offsite: locked until {until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}";
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

        long freed = 0;
        var deleted = 0;
        foreach (var decision in plan.Deleted)
        {
            var stream = bySnapshot[decision.Id];
            foreach (var key in new[] { stream.StreamFilePath, stream.ManifestFilePath })
            {
                foreach (var version in byKey.GetValueOrDefault(key) ?? [])
                {
                    await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = options.Bucket, Key = key, VersionId = version.VersionId }, cancellationToken);
                }
            }

            freed += stream.Manifest.StreamBytes;
            deleted++;
            log.Information("offsite set {Set}: deleted {Snapshot} ({Bytes} bytes, every version): {Reasons}", set, decision.Id, stream.Manifest.StreamBytes, string.Join(", ", decision.Reasons));
        }

        log.Information("offsite set {Set}: kept {Kept}, deleted {Deleted}, freed {Bytes} bytes", set, plan.Kept.Count(), deleted, freed);
        return new PruneOutcome(set.Value, plan.Kept.Count(), deleted, freed, null);
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

    /// <summary>The latest retain-until still in the future among every version of <paramref name="keys"/>, or null when none is locked.</summary>
    private async Task<DateTimeOffset?> LockedUntilAsync(Dictionary<string, List<S3ObjectVersion>> byKey, string[] keys, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DateTimeOffset? latest = null;
        foreach (var key in keys)
        {
            foreach (var version in (byKey.GetValueOrDefault(key) ?? []).Where(v => v.IsDeleteMarker != true))
            {
                var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = options.Bucket, Key = key, VersionId = version.VersionId }, cancellationToken);
                if (head.ObjectLockRetainUntilDate is { } until)
                {
                    var u = new DateTimeOffset(DateTime.SpecifyKind(until.ToUniversalTime(), DateTimeKind.Utc));
                    if (u > now && (latest is null || u > latest))
                    {
                        latest = u;
                    }
                }

                if (head.ObjectLockLegalHoldStatus == ObjectLockLegalHoldStatus.On)
                {
                    latest = DateTimeOffset.MaxValue;
                }
            }
        }

        return latest;
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

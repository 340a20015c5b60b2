using System.Security.Cryptography;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Offsite;

namespace BtrfsSend.Receiver.Checks;

/// <summary>
/// Monitoring of the stream store. Never says OK about what it could not read: a missing root,
/// an unreadable manifest, or no sets at all is UNKNOWN.
/// </summary>
internal sealed class HealthCheck(ReceiverOptions options, TimeProvider clock)
{
    public sealed record Settings(IReadOnlyList<BackupSet>? Sets, TimeSpan MaxAge, TimeSpan? WarnAge, bool VerifyData, int? VerifyLimit);

    public CheckReport Run(Settings settings)
    {
        var findings = new List<CheckFinding>();
        var healths = new List<SetHealth>();
        var store = new StreamStore(options.BackupRootDirPath);
        if (!Directory.Exists(store.RootDirPath))
        {
            findings.Add(new CheckFinding(CheckStatus.Unknown, null, $"BACKUP_ROOT {store.RootDirPath} does not exist or cannot be read"));
            return new CheckReport(findings, healths, null, settings.MaxAge);
        }

        long? free = null;
        try
        {
            free = FreeSpace.AvailableBytes(store.RootDirPath);
            if (free < options.MinFreeSpace)
            {
                findings.Add(new CheckFinding(CheckStatus.Critical, null, $"only {free} bytes free under {store.RootDirPath}, below MIN_FREE_SPACE={options.MinFreeSpace}: uploads are refused"));
            }
            else if (free < 2 * options.MinFreeSpace)
            {
                findings.Add(new CheckFinding(CheckStatus.Warning, null, $"{free} bytes free under {store.RootDirPath}, less than twice MIN_FREE_SPACE={options.MinFreeSpace}"));
            }
        }
        catch (Core.Errors.StorageException ex)
        {
            findings.Add(new CheckFinding(CheckStatus.Unknown, null, ex.Message));
        }

        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var set in settings.Sets ?? store.DiscoverSets())
        {
            if (CheckSet(store, set, settings, now, findings) is { } health)
            {
                healths.Add(health);
            }
        }

        if (healths.Count == 0)
        {
            findings.Add(new CheckFinding(CheckStatus.Unknown, null, $"no backup sets found under {store.RootDirPath}"));
        }

        return new CheckReport(findings, healths, free, settings.MaxAge);
    }

    /// <summary>
    /// One set's findings and health; null for a set directory found (not named) that holds nothing
    /// stored — no manifest, no stream file, only the lock file and perhaps temp files: a first
    /// upload that is running, was refused or failed. The receiver keeps such a directory (removing
    /// it would race with the per-set lock, docs/architecture.md); it is not a backup set, so it is
    /// neither CRITICAL "no committed stream" nor counted, only mentioned (OK) and its stale temp
    /// files reported as anywhere else.
    /// </summary>
    private SetHealth? CheckSet(StreamStore store, BackupSet set, Settings settings, DateTime now, List<CheckFinding> findings)
    {
        SetContents contents;
        try
        {
            contents = store.Read(set);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            findings.Add(new CheckFinding(CheckStatus.Unknown, set.Value, $"cannot read the set: {ex.Message}"));
            return new SetHealth(set.Value, 0, 0, null, null, 0);
        }

        foreach (var problem in contents.Problems)
        {
            findings.Add(new CheckFinding(CheckStatus.Unknown, set.Value, $"cannot read state: {problem}"));
        }

        if (settings.Sets is null && HoldsNothingStored(contents))
        {
            findings.Add(new CheckFinding(CheckStatus.Ok, set.Value, "nothing stored yet (a first upload is running, was refused or failed); not counted as a set"));
            FileFindings(store, set, contents, findings);
            return null;
        }

        var newest = contents.Streams.MaxBy(s => s.Manifest.ReceivedAtUtc);
        double? age = newest is null ? null : (now - newest.Manifest.ReceivedAtUtc).TotalSeconds;
        if (newest is null)
        {
            if (contents.IsReadable)
            {
                findings.Add(new CheckFinding(CheckStatus.Critical, set.Value, "no committed stream"));
            }
        }
        else if (age > settings.MaxAge.TotalSeconds)
        {
            findings.Add(new CheckFinding(CheckStatus.Critical, set.Value, $"newest stream {newest.Manifest.Snapshot} was received {RetentionPolicy.FormatDuration(TimeSpan.FromSeconds(Math.Round(age.Value)))} ago (max {RetentionPolicy.FormatDuration(settings.MaxAge)})"));
        }
        else if (settings.WarnAge is { } warn && age > warn.TotalSeconds)
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"newest stream {newest.Manifest.Snapshot} was received {RetentionPolicy.FormatDuration(TimeSpan.FromSeconds(Math.Round(age.Value)))} ago (warn {RetentionPolicy.FormatDuration(warn)})"));
        }

        // A received_at ahead of the clock: the clock jumped back (uploads are refused as clock-skew
        // until it is right again), or it was ahead when the stream arrived.
        if (Pruning.RetentionClock.FutureWarning(contents.Streams, new DateTimeOffset(now, TimeSpan.Zero)) is { } ahead)
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, ahead));
        }

        foreach (var broken in contents.Chains().BrokenChains())
        {
            findings.Add(new CheckFinding(CheckStatus.Critical, set.Value, $"chain broken: {broken.Message}"));
        }

        FileFindings(store, set, contents, findings);
        UploadAnomalies(contents, set, now, findings);

        var verified = 0;
        if (settings.VerifyData)
        {
            foreach (var stream in Rotate(contents.Streams, settings.VerifyLimit, now))
            {
                verified++;
                var problem = VerifyFile(stream);
                if (problem is not null)
                {
                    findings.Add(new CheckFinding(CheckStatus.Critical, set.Value, problem));
                }
            }
        }

        var health = new SetHealth(set.Value, contents.Streams.Count, contents.Streams.Sum(s => s.Manifest.StreamBytes),
            newest?.Manifest.ReceivedAtUtc, age, verified);
        return options.ObjectStore is { } s3 ? OffsiteHealth(store, set, contents, s3, now, findings, health) : health;
    }

    /// <summary>No committed stream, no manifest (readable or not), no stream file without one: at most the lock file and temp files.</summary>
    private static bool HoldsNothingStored(SetContents contents)
        => contents.Streams.Count == 0 && contents.IsReadable && contents.NamesInUse.Count == 0 && contents.OrphanFilePaths.Count == 0;

    /// <summary>What the set's directory listing alone shows (no data read): resized, orphaned, stale temp and unencrypted files.</summary>
    private static void FileFindings(StreamStore store, BackupSet set, SetContents contents, List<CheckFinding> findings)
    {
        // From the directory listing alone (no data read): a stream file cut short or grown since it
        // was committed is as broken as a missing one. --verify-data also re-hashes the content.
        foreach (var resized in contents.Streams.Where(s => s.IsResized))
        {
            findings.Add(new CheckFinding(CheckStatus.Critical, set.Value, $"{resized.StreamFilePath} is {resized.StreamFileBytes} bytes, its manifest says {resized.Manifest.StreamBytes}"));
        }

        foreach (var orphan in contents.OrphanFilePaths)
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"stream file without a manifest (an interrupted commit?): {orphan}"));
        }

        if (contents.TempFilePaths.Count > 0)
        {
            using var idle = Directory.Exists(contents.DirPath) ? DirectoryLock.TryAcquire(store.LockFilePath(set)) : null;
            if (idle is not null)
            {
                findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"{contents.TempFilePaths.Count} stale temp file(s) from interrupted uploads (removed by the next upload or prune): {contents.TempFilePaths[0]}"));
            }
        }

        foreach (var plain in contents.Streams.Where(s => s.Manifest.Encryption == StreamEncryption.None))
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"{plain.Manifest.Snapshot} is not OpenPGP-encrypted"));
        }
    }

    /// <summary>
    /// With S3_BUCKET set: how many committed streams the set's .offsite record does not list as
    /// copied, and how long the oldest has waited (S3_WARN_AGE / S3_CRIT_AGE); a bucket the last
    /// replicate found without Object Lock is a WARNING (its copies are not write-once).
    /// </summary>
    private static SetHealth OffsiteHealth(StreamStore store, BackupSet set, SetContents contents, ObjectStoreOptions s3, DateTime now, List<CheckFinding> findings, SetHealth health)
    {
        OffsiteRecord record;
        try
        {
            record = OffsiteRecord.Read(store, set, s3.Target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            findings.Add(new CheckFinding(CheckStatus.Unknown, set.Value, $"cannot read the offsite record: {ex.Message}"));
            return health;
        }

        var pending = contents.Streams.Where(s => !record.IsDone(s.Manifest.Snapshot.Value)).ToList();
        var oldest = pending.MinBy(s => s.Manifest.ReceivedAtUtc);
        double? oldestAge = oldest is null ? null : Math.Max(0, (now - oldest.Manifest.ReceivedAtUtc).TotalSeconds);
        if (oldest is not null)
        {
            var text = $"{pending.Count} stream(s) not offsite in bucket {s3.Bucket}; the oldest, {oldest.Manifest.Snapshot}, was received {RetentionPolicy.FormatDuration(TimeSpan.FromSeconds(Math.Round(oldestAge!.Value)))} ago";
            if (oldestAge > s3.CritAge.TotalSeconds)
            {
                findings.Add(new CheckFinding(CheckStatus.Critical, set.Value, $"{text} (S3_CRIT_AGE {RetentionPolicy.FormatDuration(s3.CritAge)}): is replicate running?"));
            }
            else if (oldestAge > s3.WarnAge.TotalSeconds)
            {
                findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"{text} (S3_WARN_AGE {RetentionPolicy.FormatDuration(s3.WarnAge)})"));
            }
        }

        if (record.BucketLocked == false)
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"bucket {s3.Bucket} is unlocked (no Object Lock): whoever holds its write credentials can delete the offsite copies"));
        }

        return health with { NotOffsite = pending.Count, OldestNotOffsiteAgeSeconds = oldestAge, BucketLocked = record.BucketLocked };
    }

    /// <summary>A different subset of at most <paramref name="limit"/> streams each day, covering all of them over time.</summary>
    internal static IEnumerable<StoredStream> Rotate(IReadOnlyList<StoredStream> streams, int? limit, DateTime now)
    {
        if (limit is not { } n || n >= streams.Count)
        {
            return streams;
        }

        var day = (long)(now - DateTime.UnixEpoch).TotalDays;
        var start = (int)(day * n % streams.Count);
        return Enumerable.Range(0, n).Select(i => streams[(start + i) % streams.Count]);
    }

    private static string? VerifyFile(StoredStream stream)
    {
        try
        {
            using var file = File.OpenRead(stream.StreamFilePath);
            if (file.Length != stream.Manifest.StreamBytes)
            {
                return $"{stream.StreamFilePath} is {file.Length} bytes, its manifest says {stream.Manifest.StreamBytes}";
            }

            var sha = Convert.ToHexStringLower(SHA256.HashData(file));
            return sha == stream.Manifest.StreamSha256 ? null : $"{stream.StreamFilePath} SHA-256 {sha} does not match its manifest ({stream.Manifest.StreamSha256})";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"cannot read {stream.StreamFilePath}: {ex.Message}";
        }
    }

    /// <summary>Stored streams shorter than this share of their kind's recent median are suspicious (docs: btrfs-backup-receive(8), check).</summary>
    internal const double SmallStreamRatio = 0.1;

    /// <summary>
    /// Signs of a compromised or broken client trying to age good backups out (README, security
    /// model): uploads refused by MAX_UPLOADS_PER_DAY in the last 24 h; a newest stream (per kind)
    /// under a tenth of the median of the up to 10 streams of its kind before it (at least 3); and
    /// at least 4 uploads in the last 24 h when that is more than three times the set's daily
    /// average over the 7 days before. Each is a WARNING: the data may still be fine.
    /// </summary>
    private void UploadAnomalies(SetContents contents, BackupSet set, DateTime now, List<CheckFinding> findings)
    {
        var dayAgo = now - Serve.UploadRate.Window;
        var refused = Serve.UploadRate.CountRefusedSince(contents.DirPath, dayAgo);
        if (refused > 0)
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value, $"{refused} upload(s) refused in the last 24h by MAX_UPLOADS_PER_DAY={options.MaxUploadsPerDay}: is a client uploading too often?"));
        }

        foreach (var kind in new[] { StreamKind.Full, StreamKind.Incremental })
        {
            var ofKind = contents.Streams.Where(s => s.Manifest.Kind == kind).OrderBy(s => s.Manifest.ReceivedAtUtc).ToList();
            if (ofKind.Count < 4)
            {
                continue;
            }

            var newest = ofKind[^1];
            var earlier = ofKind.Take(ofKind.Count - 1).TakeLast(10).Select(s => s.Manifest.StreamBytes).Order().ToList();
            var median = earlier.Count % 2 == 1 ? earlier[earlier.Count / 2] : (earlier[(earlier.Count / 2) - 1] + earlier[earlier.Count / 2]) / 2.0;
            if (newest.Manifest.StreamBytes < median * SmallStreamRatio)
            {
                findings.Add(new CheckFinding(CheckStatus.Warning, set.Value,
                    $"newest {(kind == StreamKind.Full ? "full" : "incremental")} stream {newest.Manifest.Snapshot} is {newest.Manifest.StreamBytes} bytes, under a tenth of the median {median:0} of the {earlier.Count} before it"));
            }
        }

        var recent = Serve.UploadRate.CountStoredSince(contents, dayAgo);
        var weekBefore = contents.Streams.Count(s => s.Manifest.ReceivedAtUtc >= dayAgo.AddDays(-7) && s.Manifest.ReceivedAtUtc < dayAgo);
        if (recent >= 4 && weekBefore > 0 && recent > 3 * (weekBefore / 7.0))
        {
            findings.Add(new CheckFinding(CheckStatus.Warning, set.Value,
                $"{recent} uploads in the last 24h, more than three times the daily average ({weekBefore / 7.0:0.#}) of the 7 days before"));
        }
    }
}

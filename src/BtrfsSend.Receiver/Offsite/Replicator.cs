using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Receiver.Offsite;

/// <summary>
/// <c>replicate</c>: copies every committed stream and its manifest that the bucket does not hold
/// yet (docs/offsite.md). Per set: the set's lock is taken only while the set is read (an upload
/// from the producer is never refused because an offsite copy is running; committed files never
/// change, and a stream pruned meanwhile is skipped); unfinished multipart uploads under the set's
/// prefix (a killed earlier run's) are aborted; streams go oldest first, an incremental only once
/// its parent is offsite; each stream's object, then its manifest's, is written and checked back,
/// and only then recorded in the set's <see cref="OffsiteRecord"/>. An object a killed run left
/// complete is checked (size and ETag against the local file) and kept instead of written again.
/// </summary>
internal sealed class Replicator(StreamStore store, ObjectStoreOptions options, IAmazonS3 client, ILogger log, TimeProvider clock)
{
    /// <summary>How long a set busy with an upload is waited for before it is left for the next run.</summary>
    public static readonly TimeSpan SetLockWait = TimeSpan.FromMinutes(10);

    /// <summary>A stream copied after received_at + S3_LOCK_DAYS is still locked this long from the copy.</summary>
    public static readonly TimeSpan MinimumLock = TimeSpan.FromDays(1);

    private readonly ObjectLayout _layout = new(options.Prefix);

    public async Task<ReplicateOutcome> RunAsync(IReadOnlyList<BackupSet> sets, bool verify, CancellationToken cancellationToken)
    {
        var locked = await S3Async("read the bucket's Object Lock configuration", () => BucketLock.IsEnabledAsync(client, options.Bucket, cancellationToken));
        ObjectLockMode? mode = !locked ? null : options.LockMode switch
        {
            ObjectLockSetting.Compliance => ObjectLockMode.Compliance,
            ObjectLockSetting.Governance => ObjectLockMode.Governance,
            _ => null,
        };
        if (!locked)
        {
            log.Warning("bucket {Bucket} has no Object Lock: the offsite copies can be deleted by anyone holding write credentials", options.Bucket);
        }

        var failures = new List<string>();
        int uploaded = 0, already = 0;
        long bytes = 0;
        foreach (var set in sets)
        {
            var (u, b, a) = await ReplicateSetAsync(set, locked, mode, verify, failures, cancellationToken);
            uploaded += u;
            bytes += b;
            already += a;
        }

        return new ReplicateOutcome(sets.Count, uploaded, bytes, already, locked, failures);
    }

    private async Task<(int Uploaded, long Bytes, int Already)> ReplicateSetAsync(
        BackupSet set, bool locked, ObjectLockMode? mode, bool verify, List<string> failures, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(store.SetDirPath(set)))
        {
            failures.Add($"set '{set}' does not exist under {store.RootDirPath}");
            return (0, 0, 0);
        }

        var contents = await ReadLockedAsync(set, cancellationToken);
        if (contents is null)
        {
            failures.Add($"set '{set}' stayed busy (an upload holds its lock) for {SetLockWait.TotalMinutes:0} minutes; copied nothing, the next run will");
            return (0, 0, 0);
        }

        foreach (var problem in contents.Problems)
        {
            log.Warning("set {Set}: {Problem} (not copied)", set, problem);
        }

        var record = OffsiteRecord.Read(store, set, options.Target);
        record.MarkBucket(locked, clock.GetUtcNow());
        await S3Async($"abort unfinished uploads of set '{set}'", () => AbortUnfinishedAsync(set, cancellationToken));

        if (verify)
        {
            await S3Async($"verify the offsite copies of set '{set}'", () => VerifyAsync(set, contents, record, failures, cancellationToken));
        }

        int uploaded = 0, already = 0;
        long bytes = 0;
        var uploader = new ObjectUploader(client, options.Bucket);
        foreach (var stream in contents.Streams.OrderBy(s => s.Manifest.Snapshot.TimestampUtc).ThenBy(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal))
        {
            var manifest = stream.Manifest;
            var name = manifest.Snapshot.Value;
            if (record.IsDone(name))
            {
                already++;
                continue;
            }

            if (manifest.Parent is { } parent && !record.IsDone(parent.Value))
            {
                failures.Add(contents.Find(parent) is null
                    ? $"set '{set}': {name} not copied: its parent {parent} is neither offsite nor in the store, so the bucket could never restore it"
                    : $"set '{set}': {name} not copied: its parent {parent} is not offsite yet");
                continue;
            }

            switch (await CopyStreamAsync(set, stream, record, uploader, mode, failures, cancellationToken))
            {
                case true:
                    already++;
                    break;
                case false:
                    uploaded++;
                    bytes += manifest.StreamBytes;
                    break;
            }
        }

        return (uploaded, bytes, already);
    }

    /// <summary>
    /// Copies one stream and its manifest and records it in the .offsite record: true when the
    /// bucket already held it complete, false when uploaded, null when not copied (a failure is
    /// added to <paramref name="failures"/>; a stream pruned meanwhile is only logged).
    /// </summary>
    private async Task<bool?> CopyStreamAsync(
        BackupSet set, StoredStream stream, OffsiteRecord record, ObjectUploader uploader, ObjectLockMode? mode, List<string> failures, CancellationToken cancellationToken)
    {
        var manifest = stream.Manifest;
        var name = manifest.Snapshot.Value;
        try
        {
            var retainUntil = mode is null ? (DateTime?)null : RetainUntil(manifest.ReceivedAtUtc);
            var streamKey = _layout.StreamKey(set, manifest.Snapshot, manifest.Kind);
            var (etag, reused) = await S3Async($"copy {set}/{manifest.StreamFile}",
                () => PutCheckedAsync(uploader, stream.StreamFilePath, streamKey, manifest.StreamSha256, manifest.StreamBytes, mode, retainUntil, cancellationToken));
            await S3Async($"copy {set}/{StoredFileName.ManifestFileName(manifest.Snapshot)}",
                () => PutCheckedAsync(uploader, stream.ManifestFilePath, _layout.ManifestKey(set, manifest.Snapshot), null, null, mode, retainUntil, cancellationToken));
            record.MarkDone(new OffsiteCopy(name, manifest.StreamBytes, etag, retainUntil is { } r ? new DateTimeOffset(r, TimeSpan.Zero) : null, clock.GetUtcNow()));
            log.Information("set {Set}: {Snapshot} offsite ({Bytes} bytes, {How}{Lock})", set, name, manifest.StreamBytes,
                reused ? "found complete in the bucket" : "uploaded", retainUntil is { } until ? $", {mode} until {until:yyyy-MM-ddTHH:mm:ssZ}" : "");
            return reused;
        }
        catch (Exception e) when (e is IntegrityException || (e is IOException && e is not FileNotFoundException))
        {
            failures.Add($"set '{set}': {name} not copied: {e.Message}");
        }
        catch (FileNotFoundException)
        {
            log.Information("set {Set}: {Snapshot} was pruned while replicate ran; not copied", set, name);
        }

        return null;
    }

    /// <summary>
    /// --verify: every stream recorded as offsite is looked up again (HEAD: size and ETag against
    /// the record, and the manifest's against the local file). One that is missing or changed is
    /// reported and copied again in this run (in a versioned bucket the original stays as an older version).
    /// </summary>
    private async Task VerifyAsync(BackupSet set, SetContents contents, OffsiteRecord record, List<string> failures, CancellationToken cancellationToken)
    {
        foreach (var stream in contents.Streams)
        {
            var manifest = stream.Manifest;
            if (record.Done(manifest.Snapshot.Value) is not { } done)
            {
                continue;
            }

            var streamKey = _layout.StreamKey(set, manifest.Snapshot, manifest.Kind);
            var head = await HeadAsync(streamKey, cancellationToken);
            var manifestKey = _layout.ManifestKey(set, manifest.Snapshot);
            var manifestHead = await HeadAsync(manifestKey, cancellationToken);
            var manifestETag = $"\"{Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(File.ReadAllBytes(stream.ManifestFilePath)))}\"";
            string? problem = head is null ? $"{streamKey} is missing"
                : head.ContentLength != done.StreamBytes || !string.Equals(head.ETag, done.StreamETag, StringComparison.Ordinal)
                    ? $"{streamKey} differs from what replicate wrote ({head.ContentLength} bytes, ETag {head.ETag}; wrote {done.StreamBytes} bytes, ETag {done.StreamETag})"
                : manifestHead is null ? $"{manifestKey} is missing"
                : !string.Equals(manifestHead.ETag, manifestETag, StringComparison.Ordinal) ? $"{manifestKey} differs from what replicate wrote (ETag {manifestHead.ETag}, the local manifest's is {manifestETag})"
                : null;
            if (problem is not null)
            {
                failures.Add($"set '{set}': offsite copy {problem}; copying it again");
                record.Forget(manifest.Snapshot.Value);
            }
        }
    }

    private DateTime RetainUntil(DateTime receivedAtUtc)
    {
        var byPolicy = receivedAtUtc.AddDays(options.LockDays);
        var minimum = clock.GetUtcNow().UtcDateTime + MinimumLock;
        return byPolicy > minimum ? byPolicy : minimum;
    }

    /// <summary>Writes <paramref name="filePath"/> to <paramref name="key"/> unless an object there already has its size and ETag; returns the ETag and whether it was already there.</summary>
    private async Task<(string ETag, bool Reused)> PutCheckedAsync(
        ObjectUploader uploader, string filePath, string key, string? sha256, long? manifestBytes, ObjectLockMode? mode, DateTime? retainUntil, CancellationToken cancellationToken)
    {
        var existing = await HeadAsync(key, cancellationToken);
        if (existing is not null && existing.ContentLength == new FileInfo(filePath).Length)
        {
            var (etag, fileSha, fileBytes) = ObjectUploader.ExpectedETag(filePath);
            if (string.Equals(existing.ETag, etag, StringComparison.Ordinal)
                && (sha256 is null || string.Equals(fileSha, sha256, StringComparison.OrdinalIgnoreCase))
                && (manifestBytes is null || manifestBytes == fileBytes))
            {
                if (mode is not null && retainUntil is { } until)
                {
                    await uploader.EnsureLockedAsync(key, existing, mode, until, cancellationToken);
                }

                return (etag, true);
            }
        }

        return (await uploader.UploadAsync(filePath, key, sha256, mode, retainUntil, cancellationToken), false);
    }

    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = options.Bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task AbortUnfinishedAsync(BackupSet set, CancellationToken cancellationToken)
    {
        var prefix = _layout.SetPrefix(set);
        var uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = options.Bucket, Prefix = prefix }, cancellationToken);
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            if (_layout.Parse(set, upload.Key) is null)
            {
                continue;
            }

            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = options.Bucket, Key = upload.Key, UploadId = upload.UploadId }, cancellationToken);
            log.Information("set {Set}: aborted an unfinished upload of {Key} (a run that was cut off)", set, upload.Key);
        }
    }

    private async Task<SetContents?> ReadLockedAsync(BackupSet set, CancellationToken cancellationToken)
    {
        var deadline = clock.GetUtcNow() + SetLockWait;
        while (true)
        {
            using (var setLock = DirectoryLock.TryAcquire(store.LockFilePath(set)))
            {
                if (setLock is not null)
                {
                    return store.Read(set);
                }
            }

            if (clock.GetUtcNow() >= deadline)
            {
                return null;
            }

            log.Information("set {Set} is busy (an upload holds its lock); waiting", set);
            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        }
    }

    private async Task<T> S3Async<T>(string action, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (ObjectStoreErrors.IsObjectStoreFailure(e))
        {
            throw ObjectStoreErrors.Describe(e, options, action);
        }
    }

    private async Task S3Async(string action, Func<Task> call)
        => await S3Async<bool>(action, async () =>
        {
            await call();
            return true;
        });
}

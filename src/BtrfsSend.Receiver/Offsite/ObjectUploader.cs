using System.Buffers;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Receiver.Offsite;

/// <summary>
/// Writes one local file to one object with bounded memory whatever its size: a single PUT up
/// to one part's size, else a multipart upload. The file is read twice, never held: a hashing
/// pass reads each part through one small reused buffer (the part's MD5 and the whole file's
/// SHA-256), then the SDK streams the part from its own file handle, with the MD5 as
/// Content-MD5, so the server refuses a body that differs from the bytes hashed. Up to
/// <see cref="PartsInFlight"/> parts are sent at once while the next one is hashed. The SHA-256
/// is compared with what the manifest says before the object is completed, and the object is
/// then checked back with HEAD (size and ETag: Ceph 16 answers CompleteMultipartUpload with an
/// empty ETag, HEAD has the right one).
/// </summary>
internal sealed class ObjectUploader(IAmazonS3 client, string bucket)
{
    public const int MiB = 1 << 20;

    /// <summary>Part size for streams up to 80 GiB (10,000 parts); bigger streams get bigger parts.</summary>
    public const int MinPartSize = 8 * MiB;

    public const int MaxParts = 10_000;

    /// <summary>Parts sent at once by default: enough to keep the hashing pass and the server busy (docs/benchmarks.md, "Offsite copy").</summary>
    public const int DefaultPartsInFlight = 3;

    /// <summary>The hashing pass's buffer; the SDK streams each part with its own small buffers.</summary>
    private const int HashBufferSize = MiB;

    /// <summary>Servers round the retain-until date they store (Ceph keeps nanoseconds, requests carry milliseconds).</summary>
    private static readonly TimeSpan LockSlack = TimeSpan.FromSeconds(1);

    /// <summary>How many parts of one multipart upload are sent at once (at least 1).</summary>
    public int PartsInFlight { get; init; } = DefaultPartsInFlight;

    /// <summary>Called with the part number before each part is sent, once it holds its slot (tests order the parts' completion with it).</summary>
    internal Func<int, CancellationToken, Task>? BeforePartAsync { get; init; }

    /// <summary>The part size for a file of <paramref name="size"/> bytes: deterministic, so a rerun computes the same ETag.</summary>
    public static int PartSize(long size)
    {
        var needed = (size + MaxParts - 1) / MaxParts;
        var rounded = (needed + MiB - 1) / MiB * MiB;
        return (int)Math.Max(MinPartSize, Math.Min(rounded, 1L << 30));
    }

    /// <summary>
    /// The ETag an S3 server gives <paramref name="filePath"/> uploaded as this class uploads it
    /// (MD5 for one PUT; MD5 of the parts' MD5s plus "-N" for multipart), with the file's SHA-256.
    /// </summary>
    public static (string ETag, string Sha256, long Bytes) ExpectedETag(string filePath)
    {
        using var file = OpenRead(filePath);
        var size = file.Length;
        var partSize = PartSize(size);
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            var partMd5s = new List<byte[]>();
            long total = 0;
            long n;
            while ((n = HashPart(file, partSize, buffer, sha, md5)) > 0)
            {
                partMd5s.Add(md5.GetHashAndReset());
                total += n;
            }

            var sha256 = Convert.ToHexStringLower(sha.GetHashAndReset());
            return (ETagOf(total, partSize, partMd5s), sha256, total);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads up to <paramref name="length"/> bytes from where <paramref name="file"/> stands into both hashes; returns how many it read (less only at the end of the file).</summary>
    private static long HashPart(FileStream file, long length, byte[] buffer, IncrementalHash sha, IncrementalHash md5)
    {
        long done = 0;
        while (done < length)
        {
            var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, length - done));
            if (n == 0)
            {
                break;
            }

            sha.AppendData(buffer, 0, n);
            md5.AppendData(buffer, 0, n);
            done += n;
        }

        return done;
    }

    private static string ETagOf(long size, int partSize, List<byte[]> partMd5s)
    {
        if (size <= partSize)
        {
            return Quote(Convert.ToHexStringLower(partMd5s.Count == 0 ? MD5.HashData([]) : partMd5s[0]));
        }

        var all = partMd5s.SelectMany(m => m).ToArray();
        return Quote($"{Convert.ToHexStringLower(MD5.HashData(all))}-{partMd5s.Count.ToString(CultureInfo.InvariantCulture)}");
    }

    private static string Quote(string etag) => $"\"{etag}\"";

    private static FileStream OpenRead(string path, int bufferSize = 0)
        => new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = bufferSize, Options = FileOptions.SequentialScan });

    /// <summary>The stream the SDK sends one part (or the whole file) from: its own handle at <paramref name="offset"/>, buffered for the SDK's small reads.</summary>
    private static FileStream OpenAt(string path, long offset)
    {
        var stream = OpenRead(path, bufferSize: 64 * 1024);
        stream.Position = offset;
        return stream;
    }

    /// <summary>
    /// Uploads <paramref name="filePath"/> to <paramref name="key"/>; the file's SHA-256 must be
    /// <paramref name="expectedSha256"/> (null = not checked) or the upload is abandoned before it
    /// becomes an object. Returns the ETag the server reports on HEAD.
    /// </summary>
    public async Task<string> UploadAsync(string filePath, string key, string? expectedSha256, ObjectLockMode? lockMode, DateTime? retainUntilUtc, CancellationToken cancellationToken)
    {
        using var file = OpenRead(filePath);
        var size = file.Length;
        var partSize = PartSize(size);
        var buffer = ArrayPool<byte>.Shared.Rent(HashBufferSize);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var expectedETag = size <= partSize
                ? await PutWholeAsync(file, filePath, buffer, sha, key, expectedSha256, lockMode, retainUntilUtc, cancellationToken)
                : await MultipartAsync(new Source(file, filePath, size, partSize, buffer, sha), key, expectedSha256, lockMode, retainUntilUtc, cancellationToken);

            var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, cancellationToken);
            if (head.ContentLength != size || !string.Equals(head.ETag, expectedETag, StringComparison.Ordinal))
            {
                throw new IntegrityException($"s3://{bucket}/{key}: the server holds {head.ContentLength} bytes with ETag {head.ETag}, expected {size} bytes with ETag {expectedETag}; not counted as copied");
            }

            if (lockMode is not null && retainUntilUtc is { } until)
            {
                await EnsureLockedAsync(key, head, lockMode, until, cancellationToken);
            }

            return head.ETag;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One PUT: hashes the whole (small) file, checks its size and SHA-256, then lets the SDK send it from its own handle.</summary>
    private async Task<string> PutWholeAsync(
        FileStream file, string filePath, byte[] buffer, IncrementalHash sha, string key, string? expectedSha256,
        ObjectLockMode? lockMode, DateTime? retainUntilUtc, CancellationToken cancellationToken)
    {
        var size = file.Length;
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var n = HashPart(file, size + 1, buffer, sha, md5);
        if (n != size)
        {
            throw new IntegrityException($"{filePath}: read {n} bytes, the file has {size}; it changed while being copied");
        }

        CheckSha(sha, expectedSha256, filePath);
        var digest = md5.GetHashAndReset();
        using var body = OpenAt(filePath, 0);
        var request = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            MD5Digest = Convert.ToBase64String(digest),
            UseChunkEncoding = false,
            ContentType = "application/octet-stream",
        };
        Lock(request, lockMode, retainUntilUtc);
        await client.PutObjectAsync(request, cancellationToken);
        return Quote(Convert.ToHexStringLower(digest));
    }

    /// <summary>
    /// Makes sure the object version <paramref name="head"/> describes is locked in
    /// <paramref name="mode"/> until at least <paramref name="retainUntilUtc"/>, and reads the lock
    /// back. Needed because Ceph 16 ignores the Object Lock headers of CreateMultipartUpload (the
    /// object it completes is not locked) while it honours PutObjectRetention on the completed
    /// version; also mends an object a run killed between completing and locking left. A lock the
    /// server will not confirm throws <see cref="IntegrityException"/>: the copy does not count.
    /// </summary>
    public async Task EnsureLockedAsync(string key, GetObjectMetadataResponse head, ObjectLockMode mode, DateTime retainUntilUtc, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(mode);
        var wanted = DateTime.SpecifyKind(retainUntilUtc, DateTimeKind.Utc);
        if (LockedUntil(head.ObjectLockRetainUntilDate) >= wanted - LockSlack)
        {
            return;
        }

        await client.PutObjectRetentionAsync(new PutObjectRetentionRequest
        {
            BucketName = bucket,
            Key = key,
            VersionId = head.VersionId,
            Retention = new ObjectLockRetention { Mode = ObjectLockRetentionMode.FindValue(mode.Value), RetainUntilDate = wanted },
        }, cancellationToken);
        var back = await client.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = bucket, Key = key, VersionId = head.VersionId }, cancellationToken);
        if (LockedUntil(back.Retention?.RetainUntilDate) < wanted - LockSlack)
        {
            throw new IntegrityException(string.Create(CultureInfo.InvariantCulture,
                $"s3://{bucket}/{key}: the server does not confirm the Object Lock retention until {wanted:yyyy-MM-ddTHH:mm:ssZ} (it reports {back.Retention?.RetainUntilDate?.ToString("o", CultureInfo.InvariantCulture) ?? "none"}); not counted as copied"));
        }
    }

    private static DateTime LockedUntil(DateTime? reported)
        => reported is { } r ? DateTime.SpecifyKind(r.ToUniversalTime(), DateTimeKind.Utc) : DateTime.MinValue;

    /// <summary>The file being uploaded, its size and part size, the hashing pass's buffer and the whole file's SHA-256.</summary>
    private sealed record Source(FileStream File, string FilePath, long Size, int PartSize, byte[] Buffer, IncrementalHash Sha);

    private async Task<string> MultipartAsync(
        Source source, string key, string? expectedSha256, ObjectLockMode? lockMode, DateTime? retainUntilUtc, CancellationToken cancellationToken)
    {
        var initiate = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ContentType = "application/octet-stream" };
        if (lockMode is not null)
        {
            initiate.ObjectLockMode = lockMode;
            initiate.ObjectLockRetainUntilDate = retainUntilUtc;
        }

        var upload = await client.InitiateMultipartUploadAsync(initiate, cancellationToken);
        var completed = false;
        try
        {
            var (parts, partMd5s) = await SendPartsAsync(source, key, upload.UploadId, cancellationToken);
            CheckSha(source.Sha, expectedSha256, source.FilePath);
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken);
            completed = true;
            return ETagOf(source.Size, source.PartSize, partMd5s);
        }
        finally
        {
            if (!completed)
            {
                await AbortQuietlyAsync(key, upload.UploadId);
            }
        }
    }

    /// <summary>
    /// Hashes the parts in file order and sends each once one of <see cref="PartsInFlight"/> slots
    /// is free; returns the parts' ETags and MD5s in part order, however the sends completed. The
    /// first failure stops the hashing pass and cancels the parts still being sent, and is thrown
    /// once every send has stopped (so the caller's abort comes after the last part).
    /// </summary>
    private async Task<(List<PartETag> Parts, List<byte[]> Md5s)> SendPartsAsync(Source source, string key, string uploadId, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(Math.Max(1, PartsInFlight));
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var sending = new List<Task<PartETag>>();
        var partMd5s = new List<byte[]>();
        Exception? stopped = null;
        try
        {
            long offset = 0, n;
            while ((n = HashPart(source.File, source.PartSize, source.Buffer, source.Sha, md5)) > 0)
            {
                var digest = md5.GetHashAndReset();
                partMd5s.Add(digest);
                await slots.WaitAsync(stop.Token);
                sending.Add(SendPartAsync(source.FilePath, key, uploadId, new PartSlice(partMd5s.Count, offset, n, digest), slots, stop));
                offset += n;
            }

            if (offset != source.Size)
            {
                throw new IntegrityException($"{source.FilePath}: read {offset} bytes, the file has {source.Size}; it changed while being copied");
            }
        }
        catch (Exception e)
        {
            // Whatever stopped the hashing pass (a failed part's cancellation, a changed file, a
            // read error), the parts being sent are stopped and waited for before it is thrown.
            stopped = e;
            await stop.CancelAsync();
        }

        foreach (var task in sending)
        {
            await ((Task)task).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        var failure = sending.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException) ?? stopped;
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return (sending.Select(t => t.Result).ToList(), partMd5s);
    }

    /// <summary>One part: its number, where it starts in the file, its length and its MD5.</summary>
    private sealed record PartSlice(int Number, long Offset, long Length, byte[] Md5);

    /// <summary>Sends one part from its own file handle and frees its slot; a failure cancels the other parts.</summary>
    private async Task<PartETag> SendPartAsync(string filePath, string key, string uploadId, PartSlice part, SemaphoreSlim slots, CancellationTokenSource stop)
    {
        try
        {
            if (BeforePartAsync is { } before)
            {
                await before(part.Number, stop.Token);
            }

            using var body = OpenAt(filePath, part.Offset);
            var response = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = uploadId,
                PartNumber = part.Number,
                PartSize = part.Length,
                InputStream = body,
                MD5Digest = Convert.ToBase64String(part.Md5),
                UseChunkEncoding = false,
            }, stop.Token);
            return new PartETag(part.Number, response.ETag);
        }
        catch
        {
            await stop.CancelAsync();
            throw;
        }
        finally
        {
            slots.Release();
        }
    }

    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        try
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId }, CancellationToken.None);
        }
        catch (Exception e) when (e is AmazonS3Exception or Amazon.Runtime.AmazonClientException or HttpRequestException or IOException)
        {
            // The next replicate aborts every unfinished upload under the prefix before it starts.
        }
    }

    private static void CheckSha(IncrementalHash sha, string? expected, string filePath)
    {
        if (expected is null)
        {
            return;
        }

        var actual = Convert.ToHexStringLower(sha.GetCurrentHash());
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new IntegrityException($"{filePath}: SHA-256 {actual} differs from its manifest's {expected}: the stored file is damaged; not copied offsite (run check --verify-data)");
        }
    }

    private static void Lock(PutObjectRequest request, ObjectLockMode? mode, DateTime? retainUntilUtc)
    {
        if (mode is not null)
        {
            request.ObjectLockMode = mode;
            request.ObjectLockRetainUntilDate = retainUntilUtc;
        }
    }
}

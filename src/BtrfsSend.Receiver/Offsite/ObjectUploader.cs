using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Receiver.Offsite;

/// <summary>
/// Writes one local file to one object with bounded memory: a single PUT up to one part's size,
/// else a multipart upload whose parts are read one at a time into one reused buffer. Every
/// request carries Content-MD5 (the server refuses a body that does not match); the file's MD5s
/// and SHA-256 are computed while reading, the SHA-256 is compared with what the manifest says
/// before the object is completed, and the object is then checked back with HEAD (size and ETag:
/// Ceph 16 answers CompleteMultipartUpload with an empty ETag, HEAD has the right one).
/// </summary>
internal sealed class ObjectUploader(IAmazonS3 client, string bucket)
{
    public const int MiB = 1 << 20;

    /// <summary>Part size for streams up to 80 GiB (10,000 parts); bigger streams get bigger parts.</summary>
    public const int MinPartSize = 8 * MiB;

    public const int MaxParts = 10_000;

    /// <summary>Servers round the retain-until date they store (Ceph keeps nanoseconds, requests carry milliseconds).</summary>
    private static readonly TimeSpan LockSlack = TimeSpan.FromSeconds(1);

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
        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var partMd5s = new List<byte[]>();
            long total = 0;
            int n;
            while ((n = file.ReadAtLeast(buffer.AsSpan(0, partSize), partSize, throwOnEndOfStream: false)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                partMd5s.Add(MD5.HashData(buffer.AsSpan(0, n)));
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

    private static FileStream OpenRead(string path)
        => new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0, Options = FileOptions.SequentialScan });

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
        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            string expectedETag;
            if (size <= partSize)
            {
                var n = file.ReadAtLeast(buffer.AsSpan(0, partSize), partSize, throwOnEndOfStream: false);
                if (n != size)
                {
                    throw new IntegrityException($"{filePath}: read {n} bytes, the file has {size}; it changed while being copied");
                }

                sha.AppendData(buffer, 0, n);
                CheckSha(sha, expectedSha256, filePath);
                var md5 = MD5.HashData(buffer.AsSpan(0, n));
                var request = new PutObjectRequest
                {
                    BucketName = bucket,
                    Key = key,
                    InputStream = new MemoryStream(buffer, 0, n, writable: false),
                    AutoCloseStream = false,
                    MD5Digest = Convert.ToBase64String(md5),
                    UseChunkEncoding = false,
                    ContentType = "application/octet-stream",
                };
                Lock(request, lockMode, retainUntilUtc);
                await client.PutObjectAsync(request, cancellationToken);
                expectedETag = Quote(Convert.ToHexStringLower(md5));
            }
            else
            {
                expectedETag = await MultipartAsync(file, size, partSize, buffer, sha, key, expectedSha256, filePath, lockMode, retainUntilUtc, cancellationToken);
            }

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

    private async Task<string> MultipartAsync(
        FileStream file, long size, int partSize, byte[] buffer, IncrementalHash sha, string key, string? expectedSha256, string filePath,
        ObjectLockMode? lockMode, DateTime? retainUntilUtc, CancellationToken cancellationToken)
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
            var parts = new List<PartETag>();
            var partMd5s = new List<byte[]>();
            long total = 0;
            int n;
            while ((n = file.ReadAtLeast(buffer.AsSpan(0, partSize), partSize, throwOnEndOfStream: false)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                var md5 = MD5.HashData(buffer.AsSpan(0, n));
                partMd5s.Add(md5);
                var number = parts.Count + 1;
                var part = await client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = bucket,
                    Key = key,
                    UploadId = upload.UploadId,
                    PartNumber = number,
                    PartSize = n,
                    InputStream = new MemoryStream(buffer, 0, n, writable: false),
                    MD5Digest = Convert.ToBase64String(md5),
                    UseChunkEncoding = false,
                }, cancellationToken);
                parts.Add(new PartETag(number, part.ETag));
                total += n;
            }

            if (total != size)
            {
                throw new IntegrityException($"{filePath}: read {total} bytes, the file has {size}; it changed while being copied");
            }

            CheckSha(sha, expectedSha256, filePath);
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken);
            completed = true;
            return ETagOf(size, partSize, partMd5s);
        }
        finally
        {
            if (!completed)
            {
                await AbortQuietlyAsync(key, upload.UploadId);
            }
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

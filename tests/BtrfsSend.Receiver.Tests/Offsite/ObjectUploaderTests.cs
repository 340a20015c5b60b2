using System.Collections.Concurrent;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Receiver.Offsite;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Offsite;

/// <summary>The multipart upload with several parts in flight, against the real S3 server.</summary>
public sealed class ObjectUploaderTests(CephS3Fixture s3) : IClassFixture<CephS3Fixture>, IDisposable
{
    private const string Key = "parts/stream.full.btrfs.gpg";
    private readonly TempDir _dir = new("uploader");

    public void Dispose() => _dir.Dispose();

    /// <summary>Three parts: two of <see cref="ObjectUploader.MinPartSize"/> and a short last one.</summary>
    private (string FilePath, byte[] Payload) ThreePartFile()
    {
        var payload = RandomNumberGenerator.GetBytes((2 * ObjectUploader.MinPartSize) + 12_345);
        var path = _dir.Sub("stream");
        File.WriteAllBytes(path, payload);
        return (path, payload);
    }

    /// <summary>The multipart ETag computed here from the payload: MD5 of the parts' MD5s, "-3".</summary>
    private static string MultipartETag(byte[] payload)
    {
        var md5s = payload.Chunk(ObjectUploader.MinPartSize).SelectMany(MD5.HashData).ToArray();
        return $"\"{Convert.ToHexStringLower(MD5.HashData(md5s))}-3\"";
    }

    private async Task<byte[]> GetAsync(string bucket)
    {
        using var get = await s3.Client.GetObjectAsync(bucket, Key);
        var memory = new MemoryStream();
        await get.ResponseStream.CopyToAsync(memory);
        return memory.ToArray();
    }

    /// <summary>
    /// Two parts in flight: part 1 is held until part 3 gets a slot, which it only gets once part 2
    /// has completed, so parts 2 and 3 are sent before part 1. The object must still be the file,
    /// with the ETag of the parts in file order.
    /// </summary>
    [CephS3Fact]
    public async Task Parts_that_complete_out_of_order_still_make_the_file_with_the_ETag_of_its_parts_in_order()
    {
        var (path, payload) = ThreePartFile();
        var bucket = await s3.CreateBucketAsync(objectLock: false);
        var started = new ConcurrentQueue<int>();
        var thirdStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var uploader = new ObjectUploader(s3.Client, bucket)
        {
            PartsInFlight = 2,
            BeforePartAsync = async (part, cancellationToken) =>
            {
                started.Enqueue(part);
                if (part == 3)
                {
                    thirdStarted.TrySetResult();
                }
                else if (part == 1)
                {
                    // A guard against a hang, not a timing assertion: part 3 starts within seconds.
                    await thirdStarted.Task.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken);
                }
            },
        };

        var etag = await uploader.UploadAsync(path, Key, Convert.ToHexStringLower(SHA256.HashData(payload)), null, null, CancellationToken.None);

        Assert.Equal([1, 2, 3], started.ToArray());
        Assert.Equal(MultipartETag(payload), etag);
        Assert.Equal(etag, ObjectUploader.ExpectedETag(path).ETag);
        Assert.Equal(payload, await GetAsync(bucket));
        Assert.Empty((await s3.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket })).MultipartUploads ?? []);
    }

    [CephS3Fact]
    public async Task A_part_that_fails_while_others_are_in_flight_aborts_the_upload_and_leaves_no_object()
    {
        var (path, payload) = ThreePartFile();
        var bucket = await s3.CreateBucketAsync(objectLock: false);
        var uploader = new ObjectUploader(s3.Client, bucket)
        {
            PartsInFlight = 3,
            BeforePartAsync = (part, _) => part == 2 ? throw new IOException("part 2 lost its connection") : Task.CompletedTask,
        };

        var failure = await Assert.ThrowsAsync<IOException>(() => uploader.UploadAsync(path, Key, Convert.ToHexStringLower(SHA256.HashData(payload)), null, null, CancellationToken.None));

        Assert.Equal("part 2 lost its connection", failure.Message);
        Assert.Empty((await s3.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket })).MultipartUploads ?? []);
        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.Client.GetObjectMetadataAsync(bucket, Key));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
    }
}

using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Offsite;

/// <summary>The real S3 server the offsite tests rely on does what they assume (scripts/lib/s3-ceph.sh).</summary>
public sealed class CephS3SmokeTests(CephS3Fixture s3) : IClassFixture<CephS3Fixture>
{
    [CephS3Fact]
    public async Task A_locked_bucket_takes_a_PUT_with_Content_MD5_returns_it_and_refuses_deleting_the_locked_version()
    {
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var data = RandomNumberGenerator.GetBytes(100_000);

        var put = await s3.Client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = "a/b.bin",
            InputStream = new MemoryStream(data),
            MD5Digest = Convert.ToBase64String(MD5.HashData(data)),
            UseChunkEncoding = false,
            ObjectLockMode = ObjectLockMode.Compliance,
            ObjectLockRetainUntilDate = DateTime.UtcNow.AddDays(1),
        });

        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(data))}\"", put.ETag);
        using var get = await s3.Client.GetObjectAsync(bucket, "a/b.bin");
        var back = new MemoryStream();
        await get.ResponseStream.CopyToAsync(back);
        Assert.Equal(data, back.ToArray());
        var denied = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.Client.DeleteObjectAsync(new DeleteObjectRequest
        {
            BucketName = bucket,
            Key = "a/b.bin",
            VersionId = put.VersionId,
        }));
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
    }

    [CephS3Fact]
    public async Task A_PUT_whose_Content_MD5_does_not_match_the_body_is_refused()
    {
        var bucket = await s3.CreateBucketAsync(objectLock: false);
        var data = RandomNumberGenerator.GetBytes(1000);

        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.Client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = bucket,
            Key = "x",
            InputStream = new MemoryStream(data),
            MD5Digest = Convert.ToBase64String(MD5.HashData(data[1..])),
            UseChunkEncoding = false,
        }));

        Assert.Equal("BadDigest", refused.ErrorCode);
    }
}

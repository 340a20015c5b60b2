using Amazon.S3;
using Amazon.S3.Model;

namespace BtrfsSend.Receiver.Offsite;

/// <summary>What the bucket and its object versions say about Object Lock (docs/offsite.md, "Object Lock on the server").</summary>
internal static class BucketLock
{
    /// <summary>Error codes servers answer for "no Object Lock configuration / retention here" (AWS, Ceph).</summary>
    private static readonly HashSet<string> NotConfiguredCodes = new(StringComparer.Ordinal)
    {
        "ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound", "NoSuchObjectLockConfiguration", "InvalidRequest",
    };

    /// <summary>Whether the bucket has Object Lock enabled (an existing bucket without it answers false; a missing bucket throws).</summary>
    public static async Task<bool> IsEnabledAsync(IAmazonS3 client, string bucket, CancellationToken cancellationToken)
    {
        try
        {
            var config = await client.GetObjectLockConfigurationAsync(new GetObjectLockConfigurationRequest { BucketName = bucket }, cancellationToken);
            return config.ObjectLockConfiguration?.ObjectLockEnabled == ObjectLockEnabled.Enabled;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is { } code && NotConfiguredCodes.Contains(code))
        {
            // Answered for an existing bucket without Object Lock; make sure the bucket exists.
            await client.GetBucketLocationAsync(new GetBucketLocationRequest { BucketName = bucket }, cancellationToken);
            return false;
        }
    }

    /// <summary>
    /// The retain-until date and legal hold the server reports for one object version: the HEAD
    /// headers first, GetObjectRetention when HEAD carries none (servers that leave the headers
    /// out). Null retain-until = the server reports no retention.
    /// </summary>
    public static async Task<(DateTimeOffset? RetainUntil, bool LegalHold)> ReportedAsync(IAmazonS3 client, string bucket, string key, string versionId, CancellationToken cancellationToken)
    {
        var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key, VersionId = versionId }, cancellationToken);
        var hold = head.ObjectLockLegalHoldStatus == ObjectLockLegalHoldStatus.On;
        if (head.ObjectLockRetainUntilDate is { } until)
        {
            return (Utc(until), hold);
        }

        try
        {
            var retention = await client.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = bucket, Key = key, VersionId = versionId }, cancellationToken);
            return (retention.Retention?.RetainUntilDate is { } r ? Utc(r) : null, hold);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is { } code && NotConfiguredCodes.Contains(code))
        {
            return (null, hold);
        }
    }

    private static DateTimeOffset Utc(DateTime date) => new(DateTime.SpecifyKind(date.ToUniversalTime(), DateTimeKind.Utc));
}

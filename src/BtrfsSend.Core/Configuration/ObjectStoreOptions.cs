namespace BtrfsSend.Core.Configuration;

/// <summary>
/// The S3_* keys: where the offsite copy lives (docs/offsite.md). Built only by the config loader,
/// and only when S3_BUCKET is set.
/// </summary>
public sealed record ObjectStoreOptions
{
    public const string DefaultRegion = "us-east-1";

    public const int DefaultLockDays = 30;

    /// <summary>S3_ENDPOINT: the server's URL (http or https); null = AWS itself (virtual-hosted addressing).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>S3_REGION: the signing region; default us-east-1.</summary>
    public string Region { get; init; } = DefaultRegion;

    /// <summary>S3_BUCKET: the bucket's name.</summary>
    public required string Bucket { get; init; }

    /// <summary>S3_PREFIX: the key prefix every object is written under, without leading or trailing '/'; empty = none.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>S3_CREDENTIALS_FILE: an AWS shared-credentials file (mode 0600 or 0400, owned by this user or root).</summary>
    public required string CredentialsFilePath { get; init; }

    /// <summary>The profile read from the credentials file.</summary>
    public const string CredentialsProfile = "default";

    /// <summary>S3_LOCK_MODE: compliance (default), governance or none.</summary>
    public ObjectLockSetting LockMode { get; init; } = ObjectLockSetting.Compliance;

    /// <summary>S3_LOCK_DAYS: retain-until = the stream's received_at + this many days; default 30.</summary>
    public int LockDays { get; init; } = DefaultLockDays;

    /// <summary>S3_WARN_AGE: <c>check</c> warns when a committed stream has waited longer than this to go offsite; default 36h.</summary>
    public TimeSpan WarnAge { get; init; } = TimeSpan.FromHours(36);

    /// <summary>S3_CRIT_AGE: <c>check</c> is CRITICAL when a committed stream has waited longer than this to go offsite; default 72h.</summary>
    public TimeSpan CritAge { get; init; } = TimeSpan.FromHours(72);

    /// <summary>Path-style addressing (http://host/bucket/key): always with an endpoint (self-hosted servers), never on AWS.</summary>
    public bool PathStyle => Endpoint is not null;

    /// <summary>
    /// One line naming the copy (endpoint or AWS region, bucket, prefix): what the local record of
    /// finished uploads is keyed by, so that pointing S3_BUCKET elsewhere starts over.
    /// </summary>
    public string Target => $"{(Endpoint is null ? "aws:" + Region : Endpoint.GetLeftPart(UriPartial.Authority))}/{Bucket}/{Prefix}";
}

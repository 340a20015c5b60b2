using Amazon.Runtime;
using Amazon.S3;
using BtrfsSend.Core.Configuration;

namespace BtrfsSend.Core.ObjectStore;

/// <summary>
/// Builds the S3 client from the S3_* settings: credentials only from S3_CREDENTIALS_FILE,
/// path-style addressing when S3_ENDPOINT is given, and no flexible checksums (the Ceph release
/// Debian ships ignores x-amz-checksum-* and may not accept aws-chunked trailers): integrity rests
/// on Content-MD5 per request, which every server checks, plus this project's own checks.
/// </summary>
public static class ObjectStoreClient
{
    /// <summary>How long one HTTP request may take before it counts as failed.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(5);

    public static AmazonS3Client Create(ObjectStoreOptions options, SharedCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credentials);
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.PathStyle,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = RequestTimeout,
            MaxErrorRetry = 3,
        };
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = endpoint.ToString();
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        AWSCredentials keys = credentials.SessionToken is { } token
            ? new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, token)
            : new BasicAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey);
        return new AmazonS3Client(keys, config);
    }

    /// <summary>Reads the credentials file and builds the client.</summary>
    public static AmazonS3Client Create(ObjectStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Create(options, SharedCredentials.Read(options.CredentialsFilePath, ObjectStoreOptions.CredentialsProfile));
    }
}

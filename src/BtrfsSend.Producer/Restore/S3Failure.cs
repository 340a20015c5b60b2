using Amazon.Runtime;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// Turns what the S3 client throws into this project's one-line errors and exit codes: refused
/// credentials are a configuration error (3), a denied or missing bucket is refused (5), an
/// object that vanished between listing and reading fails integrity (8), and everything else
/// — unreachable endpoint, timeouts, server errors — is a failed transfer (6). The server's own
/// words are echoed only through <see cref="NameText.Printable"/>.
/// </summary>
internal static class S3Failure
{
    private static readonly string[] CredentialCodes = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed"];

    /// <summary>The error for <paramref name="ex"/> while <paramref name="doing"/> (e.g. "listing s3://b/p/"), or null when it is not the client's.</summary>
    public static BtrfsSendException? TryMap(Exception ex, string doing)
    {
        switch (ex)
        {
            case BtrfsSendException:
                return null;
            case AmazonServiceException service when service.ErrorCode is { Length: > 0 } code:
                var said = string.IsNullOrWhiteSpace(service.Message) ? NameText.Printable(code) : $"{NameText.Printable(code)}: {NameText.Printable(service.Message)}";
                if (CredentialCodes.Contains(code, StringComparer.Ordinal))
                {
                    return new ConfigException($"{doing}: the server refused the credentials ({said}); check the access key and secret in the credentials file (--s3-credentials-file or S3_CREDENTIALS_FILE)");
                }

                return code switch
                {
                    "AccessDenied" => new RefusedException("access-denied", $"{doing}: access denied ({said}); the credentials must be allowed to list the bucket and read its objects"),
                    "NoSuchBucket" => new RefusedException("no-bucket", $"{doing}: the bucket does not exist at this endpoint ({said})"),
                    "NoSuchKey" => new IntegrityException($"{doing}: the object is listed but cannot be read ({said}); deleted or replaced while reading?"),
                    _ => new TransferFailedException($"{doing}: the server answered HTTP {(int)service.StatusCode} ({said})", ex),
                };
            case AmazonClientException or HttpRequestException or IOException or TimeoutException or TaskCanceledException:
                return new TransferFailedException($"{doing}: cannot reach the object store: {NameText.Printable(Innermost(ex).Message)}", ex);
            default:
                return null;
        }
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is { } inner)
        {
            ex = inner;
        }

        return ex;
    }
}

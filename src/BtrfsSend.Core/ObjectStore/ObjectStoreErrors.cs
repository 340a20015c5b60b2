using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.ObjectStore;

/// <summary>Turns what the S3 client throws into one line for the operator (what failed, what to check).</summary>
public static class ObjectStoreErrors
{
    private static readonly HashSet<string> CredentialCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed",
    };

    /// <summary>Whether <paramref name="e"/> is a failure of the object store (so <see cref="Describe"/> applies).</summary>
    public static bool IsObjectStoreFailure(Exception e)
        => e is AmazonServiceException or AmazonClientException or HttpRequestException or SocketException or TimeoutException or IOException { InnerException: SocketException };

    /// <summary>A <see cref="TransferFailedException"/> saying what <paramref name="action"/> ran into.</summary>
    public static BtrfsSendException Describe(Exception e, ObjectStoreOptions options, string action)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(options);
        var where = options.Endpoint is { } endpoint ? $"S3_ENDPOINT {endpoint.GetLeftPart(UriPartial.Authority)}" : $"AWS S3 ({options.Region})";
        var text = e switch
        {
            AmazonS3Exception s3 when s3.ErrorCode is { } code && CredentialCodes.Contains(code) =>
                $"{where} refused the credentials in S3_CREDENTIALS_FILE {options.CredentialsFilePath} ({code}); check the access key and secret",
            AmazonS3Exception { ErrorCode: "NoSuchBucket" } =>
                $"bucket '{options.Bucket}' does not exist at {where}; create it (with Object Lock for WORM copies) or fix S3_BUCKET",
            AmazonS3Exception { StatusCode: HttpStatusCode.Forbidden } s3 =>
                $"{where} denied it ({s3.ErrorCode ?? "403 Forbidden"}): the credentials in S3_CREDENTIALS_FILE lack the permission, or the object is locked",
            AmazonS3Exception s3 =>
                $"{where} answered {(int)s3.StatusCode} {s3.ErrorCode}: {FirstLine(s3.Message)}",
            _ when Find<SocketException>(e) is { } socket =>
                $"cannot reach {where}: {socket.Message}; check S3_ENDPOINT and the network",
            _ when Find<HttpRequestException>(e) is { } http =>
                $"cannot reach {where}: {FirstLine(http.Message)}; check S3_ENDPOINT and the network",
            _ when Find<TimeoutException>(e) is not null || e is TaskCanceledException =>
                $"{where} did not answer in time; check S3_ENDPOINT and the network",
            _ => $"{where}: {FirstLine(e.Message)}",
        };
        return new TransferFailedException($"{action}: {text}", e);
    }

    private static T? Find<T>(Exception e)
        where T : Exception
    {
        for (Exception? at = e; at is not null; at = at.InnerException)
        {
            if (at is T found)
            {
                return found;
            }
        }

        return null;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}

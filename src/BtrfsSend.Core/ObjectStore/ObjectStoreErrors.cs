using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.ObjectStore;

/// <summary>
/// The one place that turns what the S3 client throws into this project's one-line errors and exit
/// codes, for every command that talks to the bucket (replicate, prune --offsite, restore/verify
/// --from s3://): refused credentials are a configuration error (3), a missing or denied bucket is
/// refused (5), an object that vanished between listing and reading fails integrity (8), and the
/// rest — unreachable endpoint, timeouts, server errors — is a failed transfer (6). Each line says
/// what was being done, which server, and what to check. The server's own words are echoed only
/// through <see cref="NameText.Printable"/>.
/// </summary>
public static class ObjectStoreErrors
{
    private static readonly HashSet<string> CredentialCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed",
    };

    /// <summary>Whether <paramref name="e"/> is a failure of the object store or of the way to it (so <see cref="Describe"/> applies), not a local one.</summary>
    public static bool IsObjectStoreFailure(Exception e)
        => e is not BtrfsSendException
            && (e is AmazonServiceException or AmazonClientException or HttpRequestException or SocketException or TimeoutException
                || Find<SocketException>(e) is not null || Find<HttpRequestException>(e) is not null || Find<TimeoutException>(e) is not null);

    /// <summary>The error for <paramref name="e"/> while doing <paramref name="action"/> (e.g. "listing s3://b/p/"), or null when it is not the object store's.</summary>
    public static BtrfsSendException? TryDescribe(Exception e, ObjectStoreOptions options, string action)
        => IsObjectStoreFailure(e) ? Describe(e, options, action) : null;

    /// <summary>The error for <paramref name="e"/> (an <see cref="IsObjectStoreFailure"/>) while doing <paramref name="action"/>.</summary>
    public static BtrfsSendException Describe(Exception e, ObjectStoreOptions options, string action)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(options);
        var where = options.Endpoint is { } endpoint ? endpoint.GetLeftPart(UriPartial.Authority) : $"AWS S3 ({options.Region})";
        if (e is AmazonServiceException { ErrorCode: { Length: > 0 } code } service)
        {
            var said = string.IsNullOrWhiteSpace(service.Message) ? NameText.Printable(code) : $"{NameText.Printable(code)}: {NameText.Printable(FirstLine(service.Message))}";
            if (CredentialCodes.Contains(code))
            {
                return new ConfigException($"{action}: {where} refused the credentials in {options.CredentialsFilePath} ({said}); check the access key and secret");
            }

            return code switch
            {
                "NoSuchBucket" => new RefusedException("no-bucket", $"{action}: bucket '{options.Bucket}' does not exist at {where} ({said}); check the bucket name (S3_BUCKET, or s3://BUCKET in --from) and the endpoint"),
                "AccessDenied" or "AllAccessDisabled" => new RefusedException("access-denied", $"{action}: {where} denied it ({said}): the credentials in {options.CredentialsFilePath} lack the permission, or the object is locked"),
                "NoSuchKey" => new IntegrityException($"{action}: the object is listed but cannot be read ({said}); deleted or replaced meanwhile?"),
                _ when service.StatusCode == HttpStatusCode.Forbidden => new RefusedException("access-denied", $"{action}: {where} denied it ({said}): the credentials in {options.CredentialsFilePath} lack the permission"),
                _ => new TransferFailedException($"{action}: {where} answered HTTP {(int)service.StatusCode} ({said})", e),
            };
        }

        var text = Find<SocketException>(e) is { } socket ? socket.Message
            : Find<TimeoutException>(e) is not null ? "no answer in time"
            : Find<HttpRequestException>(e) is { } http ? FirstLine(http.Message)
            : FirstLine(Innermost(e).Message);
        return new TransferFailedException($"{action}: cannot reach {where}: {NameText.Printable(text)}; check the endpoint (S3_ENDPOINT or --s3-endpoint) and the network", e);
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

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner)
        {
            e = inner;
        }

        return e;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n')[0].Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }
}

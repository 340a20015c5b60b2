using System.Runtime.InteropServices;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Core.Configuration;

/// <summary>Reads and checks the S3_* keys (shared by every program that talks to the bucket).</summary>
internal static class ObjectStoreConfig
{
    public const string EndpointRule = "an http:// or https:// URL without user, query or fragment (e.g. https://s3.eu-central-1.wasabisys.com or http://127.0.0.1:7480); empty = AWS";
    public const string RegionRule = "a region name [a-z0-9-], 1-32 characters (e.g. eu-central-1)";
    public const string BucketRule = "an S3 bucket name: 3-63 characters [a-z0-9.-], starting and ending with a letter or digit, no '..'";
    public const string PrefixRule = "'/'-separated segments [A-Za-z0-9._-] without '.' or '..' segments or leading/trailing '/', at most 200 characters; empty = none";
    public const string CredentialsRule = "an absolute path to an AWS shared-credentials file ([default] with aws_access_key_id and aws_secret_access_key), mode 0600 or 0400, owned by this user or root";

    /// <summary>The S3 settings, or null when S3_BUCKET is unset (no offsite copy). Errors go to <paramref name="r"/>.</summary>
    public static ObjectStoreOptions? Read(ConfigReader r)
    {
        var bucket = r.Text("S3_BUCKET");
        var endpointText = r.Text("S3_ENDPOINT");
        Uri? endpoint = null;
        if (endpointText is not null)
        {
            if (Uri.TryCreate(endpointText, UriKind.Absolute, out var uri)
                && uri.Scheme is "http" or "https" && uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0
                && uri.Host.Length > 0 && !endpointText.Any(char.IsControl))
            {
                endpoint = uri;
            }
            else
            {
                r.Error("S3_ENDPOINT", $"'{NameText.Printable(endpointText)}' is not allowed; allowed: {EndpointRule}");
            }
        }

        var region = r.Text("S3_REGION") ?? ObjectStoreOptions.DefaultRegion;
        if (region.Length > 32 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            r.Error("S3_REGION", $"'{NameText.Printable(region)}' is not allowed; allowed: {RegionRule}");
        }

        var prefix = r.Text("S3_PREFIX") ?? "";
        if (PrefixProblem(prefix) is { } prefixProblem)
        {
            r.Error("S3_PREFIX", $"'{NameText.Printable(prefix)}' {prefixProblem}; allowed: {PrefixRule}");
        }

        var lockMode = r.Choice("S3_LOCK_MODE", ObjectLockSetting.Compliance,
            ("compliance", ObjectLockSetting.Compliance), ("governance", ObjectLockSetting.Governance), ("none", ObjectLockSetting.None));
        var lockDays = r.Int("S3_LOCK_DAYS", ObjectStoreOptions.DefaultLockDays, 1, 36500);
        var warnAge = r.Duration("S3_WARN_AGE", TimeSpan.FromHours(36), TimeSpan.FromMinutes(1))!.Value;
        var critAge = r.Duration("S3_CRIT_AGE", TimeSpan.FromHours(72), TimeSpan.FromMinutes(1))!.Value;
        var credentials = r.AbsolutePath("S3_CREDENTIALS_FILE", required: false);

        if (bucket is null)
        {
            foreach (var key in new[] { "S3_ENDPOINT", "S3_PREFIX", "S3_CREDENTIALS_FILE" }.Where(k => r.Text(k) is not null))
            {
                r.Warning(key, "is ignored because S3_BUCKET is not set (no offsite copy)");
            }

            return null;
        }

        if (!IsBucketName(bucket))
        {
            r.Error("S3_BUCKET", $"'{NameText.Printable(bucket)}' is not allowed; allowed: {BucketRule}");
        }

        if (credentials is null)
        {
            if (r.Errors.All(e => e.Key != "S3_CREDENTIALS_FILE"))
            {
                r.Error("S3_CREDENTIALS_FILE", "is required with S3_BUCKET; allowed: " + CredentialsRule);
            }
        }
        else if (CredentialsFileProblem(credentials) is { } problem)
        {
            r.Error("S3_CREDENTIALS_FILE", $"'{NameText.Printable(credentials)}' {problem}; allowed: {CredentialsRule}");
        }

        if (critAge < warnAge)
        {
            r.Error("S3_CRIT_AGE", $"'{ConfigReader.Format(critAge)}' is shorter than S3_WARN_AGE ({ConfigReader.Format(warnAge)}); allowed: a duration at least S3_WARN_AGE");
        }

        return new ObjectStoreOptions
        {
            Endpoint = endpoint,
            Region = region,
            Bucket = bucket,
            Prefix = prefix,
            CredentialsFilePath = credentials ?? "",
            LockMode = lockMode,
            LockDays = lockDays,
            WarnAge = warnAge,
            CritAge = critAge,
        };
    }

    internal static bool IsBucketName(string bucket)
        => bucket.Length is >= 3 and <= 63
            && bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-')
            && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1])
            && !bucket.Contains("..", StringComparison.Ordinal);

    internal static string? PrefixProblem(string prefix)
    {
        if (prefix.Length == 0)
        {
            return null;
        }

        if (prefix.Length > 200)
        {
            return "is longer than 200 characters";
        }

        if (prefix.StartsWith('/') || prefix.EndsWith('/'))
        {
            return "starts or ends with '/'";
        }

        foreach (var segment in prefix.Split('/'))
        {
            if (segment is "" or "." or "..")
            {
                return "has an empty, '.' or '..' segment";
            }

            if (!segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return "has a character outside [A-Za-z0-9._-]";
            }
        }

        return null;
    }

    /// <summary>Why the credentials file is not acceptable (missing, not a regular file, readable by others, owned by someone else), or null.</summary>
    internal static string? CredentialsFileProblem(string path)
    {
        Span<byte> statx = stackalloc byte[256];
        if (Native.Statx(Native.AtFdCwd, path, 0, Native.StatxBasicStats, statx) != 0)
        {
            return $"cannot be read ({Native.ErrorText(Marshal.GetLastPInvokeError())})";
        }

        var uid = BitConverter.ToUInt32(statx[Native.StatxUidOffset..]);
        var mode = BitConverter.ToUInt16(statx[Native.StatxModeOffset..]);
        if ((mode & 0xF000) != 0x8000)
        {
            return "is not a regular file";
        }

        var permissions = mode & 0x1FF;
        if (permissions is not (0x180 or 0x100))
        {
            return $"has mode {Convert.ToString(permissions, 8).PadLeft(4, '0')} (chmod 600 it: secret keys readable by group or others are not secret)";
        }

        var euid = Native.GetEuid();
        return uid == 0 || uid == euid ? null : $"is owned by uid {uid}, not by this user (uid {euid}) or root";
    }
}

using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.ObjectStore;

/// <summary>
/// The keys read from an AWS shared-credentials file (the format <c>aws configure</c> writes):
/// the <c>[default]</c> profile's <c>aws_access_key_id</c>, <c>aws_secret_access_key</c> and
/// optional <c>aws_session_token</c>. Read by this project itself, so no other file (~/.aws,
/// environment variables, instance metadata) is ever consulted.
/// </summary>
public sealed record SharedCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken)
{
    /// <summary>The credentials file is never longer than this.</summary>
    public const int MaxBytes = 64 * 1024;

    /// <summary>Reads <paramref name="profile"/> from <paramref name="path"/>; throws <see cref="ConfigException"/> with one line saying what is wrong.</summary>
    public static SharedCredentials Read(string path, string profile)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxBytes)
            {
                throw new ConfigException($"S3_CREDENTIALS_FILE {path}: longer than {MaxBytes} bytes; allowed: an AWS shared-credentials file");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"S3_CREDENTIALS_FILE {path}: cannot be read ({e.GetType().Name}); allowed: an AWS shared-credentials file with mode 0600");
        }

        return Parse(text, profile, path);
    }

    /// <summary>Parses the file's text (INI: <c>[profile]</c> sections, <c>key = value</c> lines, '#' and ';' comments).</summary>
    public static SharedCredentials Parse(string text, string profile, string where)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string? section = null;
        var found = false;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                if (line[^1] != ']')
                {
                    throw new ConfigException($"S3_CREDENTIALS_FILE {where}:{lineNumber}: a section header must end in ']'; allowed: [{profile}] followed by key = value lines");
                }

                section = line[1..^1].Trim();
                found |= section == profile;
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ConfigException($"S3_CREDENTIALS_FILE {where}:{lineNumber}: not a key = value line; allowed: [{profile}] followed by key = value lines");
            }

            if (section == profile)
            {
                values[line[..eq].Trim().ToLowerInvariant()] = line[(eq + 1)..].Trim();
            }
        }

        if (!found)
        {
            throw new ConfigException($"S3_CREDENTIALS_FILE {where}: has no [{profile}] section; allowed: [{profile}] with aws_access_key_id and aws_secret_access_key");
        }

        var id = Value(values, "aws_access_key_id", profile, where);
        var secret = Value(values, "aws_secret_access_key", profile, where);
        var token = values.GetValueOrDefault("aws_session_token") is { Length: > 0 } t ? t : null;
        return new SharedCredentials(id, secret, token);
    }

    private static string Value(Dictionary<string, string> values, string key, string profile, string where)
    {
        if (!values.TryGetValue(key, out var v) || v.Length == 0)
        {
            throw new ConfigException($"S3_CREDENTIALS_FILE {where}: [{profile}] has no {key}; allowed: [{profile}] with aws_access_key_id and aws_secret_access_key");
        }

        if (v.Length > 256 || v.Any(c => c <= ' ' || c > '~'))
        {
            throw new ConfigException($"S3_CREDENTIALS_FILE {where}: [{profile}] {key} '{NameText.Printable(v[..Math.Min(v.Length, 4)])}...' has a character outside printable ASCII or is longer than 256; allowed: the key as the provider issued it");
        }

        return v;
    }

    /// <summary>Never prints the secret.</summary>
    public override string ToString() => $"SharedCredentials {{ AccessKeyId = {AccessKeyId} }}";
}

using System.Globalization;
using BtrfsSend.Core.Naming;
using Microsoft.Extensions.Configuration;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// Reads typed values out of the layered configuration once, collecting every problem as a
/// <see cref="ConfigIssue"/> that names the key, where the value came from and what is allowed.
/// </summary>
internal sealed class ConfigReader(IConfigurationRoot root, IReadOnlyList<string?> layerNames)
{
    public const string PathRule = "an absolute path without control characters";

    public List<ConfigIssue> Errors { get; } = [];

    public List<ConfigIssue> Warnings { get; } = [];

    public IConfigurationRoot Root => root;

    /// <summary><c>file:line</c>, <c>environment</c>, <c>command line</c> or <c>default</c>.</summary>
    public string Where(string key)
    {
        var providers = root.Providers.ToList();
        for (var i = providers.Count - 1; i >= 0; i--)
        {
            if (providers[i].TryGet(key, out _))
            {
                return providers[i] is ShellConfigurationProvider shell ? shell.Where(key) : layerNames[i] ?? "default";
            }
        }

        return "default";
    }

    public void Error(string key, string message) => Errors.Add(new ConfigIssue(key, Where(key), message));

    public void Warning(string key, string message) => Warnings.Add(new ConfigIssue(key, Where(key), message));

    /// <summary>The value, or null when unset or empty (the shell scripts use empty for "not set").</summary>
    public string? Text(string key) => root[key] is { Length: > 0 } v ? v : null;

    public string? Required(string key, string allowed)
    {
        var v = Text(key);
        if (v is null)
        {
            Error(key, $"is required; allowed: {allowed}");
        }

        return v;
    }

    public string? AbsolutePath(string key, bool required)
    {
        var v = required ? Required(key, PathRule) : Text(key);
        if (v is not null && (!v.StartsWith('/') || v.Any(char.IsControl)))
        {
            Error(key, $"'{NameText.Printable(v)}' is not an absolute path; allowed: {PathRule}");
            return null;
        }

        return v;
    }

    public int Int(string key, int defaultValue, int min, int max)
    {
        var v = Text(key);
        if (v is null)
        {
            return defaultValue;
        }

        if (v.Length <= 10 && v.All(char.IsAsciiDigit) && long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            && n >= min && n <= max)
        {
            return (int)n;
        }

        Error(key, $"'{NameText.Printable(v)}' is not allowed; allowed: a whole number from {min} to {max}");
        return defaultValue;
    }

    public TimeSpan? Duration(string key, TimeSpan? defaultValue, TimeSpan min)
    {
        var v = Text(key);
        if (v is null)
        {
            return defaultValue;
        }

        if (TryDuration(v, out var d) && d >= min)
        {
            return d;
        }

        Error(key, $"'{NameText.Printable(v)}' is not a duration; allowed: a whole number with a unit s, m, h, d or w (e.g. 36h, 7d), at least {Format(min)}, at most 100 years");
        return defaultValue;
    }

    public long Size(string key, long defaultValue, long min)
    {
        var v = Text(key);
        if (v is null)
        {
            return defaultValue;
        }

        if (TrySize(v, out var n) && n >= min)
        {
            return n;
        }

        Error(key, $"'{NameText.Printable(v)}' is not a size; allowed: a whole number of bytes, optionally with K, M, G or T (powers of 1024), at least {min} bytes");
        return defaultValue;
    }

    public bool YesNo(string key, bool defaultValue)
    {
        switch (Text(key))
        {
            case null: return defaultValue;
            case "yes": return true;
            case "no": return false;
            case var v:
                Error(key, $"'{NameText.Printable(v)}' is not allowed; allowed: yes or no");
                return defaultValue;
        }
    }

    public T Choice<T>(string key, T defaultValue, params (string Text, T Value)[] choices)
    {
        var v = Text(key);
        if (v is null)
        {
            return defaultValue;
        }

        foreach (var (text, value) in choices)
        {
            if (v == text)
            {
                return value;
            }
        }

        Error(key, $"'{NameText.Printable(v)}' is not allowed; allowed: {string.Join(", ", choices.Select(c => c.Text))}");
        return defaultValue;
    }

    /// <summary>An array key: a bash array in the file, or shell words from the environment or command line.</summary>
    public IReadOnlyList<string> Words(string key)
    {
        var v = root[key];
        if (string.IsNullOrEmpty(v))
        {
            return [];
        }

        var (words, error) = ShellWords.Split(v);
        if (error is not null)
        {
            Error(key, $"'{NameText.Printable(v)}': {error}");
            return [];
        }

        return words!;
    }

    /// <summary>Checks a secret file exists, is a regular file and is readable by its owner only.</summary>
    public void SecretFile(string key, string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                Error(key, Directory.Exists(path)
                    ? $"'{NameText.Printable(path)}' is a directory; allowed: a regular file with mode 0600 or 0400"
                    : $"'{NameText.Printable(path)}' does not exist; allowed: an existing file with mode 0600 or 0400");
                return;
            }

            var mode = (int)File.GetUnixFileMode(path) & 0x1FF;
            if (mode is not (0x180 or 0x100))
            {
                Error(key, $"'{NameText.Printable(path)}' has mode {Convert.ToString(mode, 8).PadLeft(4, '0')}; allowed: 0600 or 0400 (chmod 600 it: a secret readable by group or others is not a secret)");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error(key, $"'{NameText.Printable(path)}' cannot be read ({e.GetType().Name}); allowed: an existing file with mode 0600 or 0400");
        }
    }

    internal static bool TryDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (text.Length < 2 || text.Length > 12 || !text[..^1].All(char.IsAsciiDigit)
            || !long.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }

        long? seconds = text[^1] switch
        {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86400,
            'w' => n * 604800,
            _ => null,
        };
        if (seconds is not { } s || s > 100L * 366 * 86400)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(s);
        return true;
    }

    internal static bool TrySize(string text, out long bytes)
    {
        bytes = 0;
        var unit = text.Length > 0 ? text[^1] : '\0';
        var shift = unit switch { 'K' => 10, 'M' => 20, 'G' => 30, 'T' => 40, _ => 0 };
        var digits = shift == 0 ? text : text[..^1];
        if (digits.Length is 0 or > 19 || !digits.All(char.IsAsciiDigit)
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            || n > long.MaxValue >> shift)
        {
            return false;
        }

        bytes = n << shift;
        return true;
    }

    /// <summary>The shortest exact text <see cref="TryDuration"/> reads back as <paramref name="d"/>.</summary>
    internal static string Format(TimeSpan d)
    {
        var s = (long)d.TotalSeconds;
        return s == 0 ? "0s"
            : s % 604800 == 0 ? $"{s / 604800}w"
            : s % 86400 == 0 ? $"{s / 86400}d"
            : s % 3600 == 0 ? $"{s / 3600}h"
            : s % 60 == 0 ? $"{s / 60}m"
            : $"{s}s";
    }
}

using System.Globalization;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// BWLIMIT and <c>--bwlimit</c>: bytes per second, a whole number with an optional K, M or G
/// (powers of 1024), at least 1K; <c>0</c> (or unset) means no limit.
/// </summary>
public static class BandwidthLimit
{
    /// <summary>The lowest limit: 1 KiB/s.</summary>
    public const long Min = 1024;

    public const string Allowed = "bytes per second as a whole number with an optional K, M or G (powers of 1024), at least 1K, e.g. 20M; 0 means no limit";

    /// <summary>
    /// Reads <paramref name="text"/>: true with the limit (null for 0: no limit), or false with
    /// <paramref name="problem"/> naming what is wrong and what is allowed.
    /// </summary>
    public static bool TryParse(string text, out long? bytesPerSecond, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        bytesPerSecond = null;
        problem = null;
        var unit = text.Length > 0 ? char.ToUpperInvariant(text[^1]) : '\0';
        var shift = unit switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 0 };
        var digits = shift == 0 ? text : text[..^1];
        if (digits.Length is 0 or > 19 || !digits.All(char.IsAsciiDigit)
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > long.MaxValue >> shift)
        {
            problem = $"'{NameText.Printable(text)}' is not a rate; allowed: {Allowed}";
            return false;
        }

        var rate = n << shift;
        if (rate != 0 && rate < Min)
        {
            problem = $"'{NameText.Printable(text)}' is below 1K; allowed: {Allowed}";
            return false;
        }

        bytesPerSecond = rate == 0 ? null : rate;
        return true;
    }

    /// <summary>For messages: <c>20.0 MiB/s</c>.</summary>
    public static string Describe(long bytesPerSecond) => bytesPerSecond >= 1L << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / (double)(1L << 20):F1} MiB/s")
        : string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1024.0:F1} KiB/s");
}

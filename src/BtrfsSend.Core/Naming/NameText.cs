using System.Globalization;
using System.Text;

namespace BtrfsSend.Core.Naming;

/// <summary>Renders hostile input safely inside one-line error messages.</summary>
public static class NameText
{
    /// <summary>At most this many characters of a refused value are echoed back.</summary>
    public const int MaxEcho = 80;

    /// <summary>
    /// The value with every character outside printable ASCII shown as <c>\xNN</c> or <c>\u{NNNN}</c>,
    /// cut to <paramref name="maxLength"/> (default <see cref="MaxEcho"/>) characters, so a refused value
    /// can never break a log line or a protocol line.
    /// </summary>
    public static string Printable(string value, int maxLength = MaxEcho)
    {
        var sb = new StringBuilder(Math.Min(value.Length, maxLength) + 8);
        foreach (var c in value)
        {
            if (sb.Length >= maxLength)
            {
                sb.Append("...");
                break;
            }

            if (c is >= ' ' and <= '~' and not '\\')
            {
                sb.Append(c);
            }
            else if (c < 0x100)
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{{{(int)c:x4}}}");
            }
        }

        return sb.ToString();
    }

    /// <summary>Names a single refused character for an error message.</summary>
    public static string Describe(char c) => c switch
    {
        '/' => "'/'",
        ' ' => "a space",
        >= '!' and <= '~' => $"the character '{c}'",
        _ => $"the character {Printable(c.ToString())}",
    };
}

using System.Globalization;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// The receiver's final line on stdout after a receiving verb: <see cref="OkLine"/>
/// (<c>OK &lt;sha256-hex&gt; &lt;bytes&gt;</c>) or <see cref="ErrLine"/> (<c>ERR &lt;code&gt; &lt;message&gt;</c>).
/// Lines are rendered and parsed without their terminating newline.
/// </summary>
public abstract record ResponseLine
{
    private protected ResponseLine()
    {
    }

    /// <summary>The line, without a newline.</summary>
    public abstract string Render();

    public sealed override string ToString() => Render();

    /// <summary>Reads one line (no newline). Strict: only what <see cref="Render"/> produces is accepted.</summary>
    public static NameCheck<ResponseLine> Parse(string? line)
    {
        if (string.IsNullOrEmpty(line))
        {
            return NameCheck<ResponseLine>.Fail("response line is empty; expected 'OK <sha256-hex> <bytes>' or 'ERR <code> <message>'");
        }

        if (line.StartsWith(OkLine.Keyword + " ", StringComparison.Ordinal))
        {
            return OkLine.ParseRest(line);
        }

        if (line.StartsWith(ErrLine.Keyword + " ", StringComparison.Ordinal))
        {
            return ErrLine.ParseRest(line);
        }

        return NameCheck<ResponseLine>.Fail($"response line '{NameText.Printable(line)}' starts with neither 'OK ' nor 'ERR '");
    }

    internal static bool IsPrintableLine(string text)
    {
        foreach (var c in text)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Canonical non-negative decimal: no sign, no leading zeros, fits a long.</summary>
    internal static bool TryParseCount(string text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 19 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}

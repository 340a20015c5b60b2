using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// <c>ERR &lt;code&gt; &lt;message&gt;</c>: the receiver refused or failed. <see cref="Code"/> is one of
/// <see cref="ErrorCodes"/> (a parser accepts any well-formed code, for newer receivers);
/// <see cref="Message"/> is one printable-ASCII line.
/// </summary>
public sealed record ErrLine : ResponseLine
{
    public const string Keyword = "ERR";
    public const int MaxMessageLength = 1000;

    /// <summary>Throws <see cref="ArgumentException"/> for a malformed code or a message that is empty, too long or not printable ASCII; see <see cref="From"/>.</summary>
    public ErrLine(string code, string message)
    {
        if (!ErrorCodes.IsWellFormed(code))
        {
            throw new ArgumentException("an error code is [a-z][a-z-]{0,31}", nameof(code));
        }

        if (string.IsNullOrEmpty(message) || message.Length > MaxMessageLength || !IsPrintableLine(message))
        {
            throw new ArgumentException($"an error message is 1-{MaxMessageLength} printable ASCII characters", nameof(message));
        }

        Code = code;
        Message = message;
    }

    public string Code { get; }

    public string Message { get; }

    public override string Render() => $"{Keyword} {Code} {Message}";

    /// <summary>
    /// Builds a line from any message: characters outside printable ASCII become '?', an empty
    /// message becomes the code, and a long one is cut, so the result always fits on one line.
    /// </summary>
    public static ErrLine From(string code, string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return new ErrLine(code, code);
        }

        var sb = new StringBuilder(Math.Min(message.Length, MaxMessageLength));
        foreach (var c in message)
        {
            if (sb.Length == MaxMessageLength)
            {
                break;
            }

            sb.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return new ErrLine(code, sb.ToString());
    }

    internal static NameCheck<ResponseLine> ParseRest(string line)
    {
        var rest = line[(Keyword.Length + 1)..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0)
        {
            return NameCheck<ResponseLine>.Fail($"ERR line '{NameText.Printable(line)}' does not have the form 'ERR <code> <message>'");
        }

        var code = rest[..space];
        var message = rest[(space + 1)..];
        if (!ErrorCodes.IsWellFormed(code))
        {
            return NameCheck<ResponseLine>.Fail($"ERR line code '{NameText.Printable(code)}' is not [a-z][a-z-]{{0,31}}");
        }

        if (message.Length is 0 or > MaxMessageLength || !IsPrintableLine(message))
        {
            return NameCheck<ResponseLine>.Fail($"ERR line message '{NameText.Printable(message)}' is not 1-{MaxMessageLength} printable ASCII characters");
        }

        return NameCheck<ResponseLine>.Ok(new ErrLine(code, message));
    }
}

using System.Globalization;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// <c>OK &lt;sha256-hex&gt; &lt;bytes&gt;</c>: the receiver committed <paramref name="Bytes"/> bytes whose
/// SHA-256 is <paramref name="Sha256Hex"/> (64 lowercase hex digits). The producer compares both
/// with what it sent before it records anything as done.
/// </summary>
public sealed record OkLine : ResponseLine
{
    public const string Keyword = "OK";

    public OkLine(string sha256Hex, long bytes)
    {
        if (!IsSha256Hex(sha256Hex))
        {
            throw new ArgumentException("SHA-256 must be 64 lowercase hex digits", nameof(sha256Hex));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Sha256Hex = sha256Hex;
        Bytes = bytes;
    }

    public string Sha256Hex { get; }

    public long Bytes { get; }

    public override string Render() => string.Create(CultureInfo.InvariantCulture, $"{Keyword} {Sha256Hex} {Bytes}");

    /// <summary>True if this line reports exactly <paramref name="sha256Hex"/> and <paramref name="bytes"/>.</summary>
    public bool Matches(string sha256Hex, long bytes)
        => Bytes == bytes && string.Equals(Sha256Hex, sha256Hex, StringComparison.Ordinal);

    public static bool IsSha256Hex(string? text)
    {
        if (text is null || text.Length != 64)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        return true;
    }

    internal static NameCheck<ResponseLine> ParseRest(string line)
    {
        var parts = line.Split(' ');
        if (parts.Length != 3)
        {
            return NameCheck<ResponseLine>.Fail($"OK line '{NameText.Printable(line)}' does not have the form 'OK <sha256-hex> <bytes>'");
        }

        if (!IsSha256Hex(parts[1]))
        {
            return NameCheck<ResponseLine>.Fail($"OK line hash '{NameText.Printable(parts[1])}' is not 64 lowercase hex digits");
        }

        if (!TryParseCount(parts[2], out var bytes))
        {
            return NameCheck<ResponseLine>.Fail($"OK line byte count '{NameText.Printable(parts[2])}' is not a non-negative decimal without leading zeros");
        }

        return NameCheck<ResponseLine>.Ok(new OkLine(parts[1], bytes));
    }
}

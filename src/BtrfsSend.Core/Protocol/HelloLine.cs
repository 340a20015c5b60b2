using System.Globalization;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// The answer to <c>hello</c>: <c>btrfs-send-receiver &lt;version&gt; proto=&lt;n&gt; modes=&lt;mode&gt;[,&lt;mode&gt;...]</c>.
/// A parser ignores further <c>key=value</c> tokens so that later receivers can say more; the one
/// it knows is <c>session=1</c> (<see cref="OffersSession"/>), appended by receivers that serve the
/// <c>session</c> verb.
/// </summary>
public sealed record HelloLine
{
    public const string ProgramName = "btrfs-send-receiver";
    public const int CurrentProtocol = 1;
    public const string EncryptedStreamMode = "encrypted-stream";
    public const string RemoteBtrfsMode = "remote-btrfs";
    public const string VersionRule = "[0-9A-Za-z.+-]{1,64}";
    public const string ModeRule = "[a-z0-9-]{1,32}";

    private readonly string[] _modes;

    /// <summary>Throws <see cref="ArgumentException"/> if a token breaks its rule.</summary>
    public HelloLine(string version, int protocol, IReadOnlyList<string> modes)
    {
        var problem = VersionProblem(version) ?? ProtocolProblem(protocol) ?? ModesProblem(modes);
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }

        Version = version;
        Protocol = protocol;
        _modes = [.. modes];
    }

    public string Version { get; }

    public int Protocol { get; }

    public IReadOnlyList<string> Modes => _modes;

    /// <summary>The receiver serves the <c>session</c> verb (token <c>session=1</c>).</summary>
    public bool OffersSession { get; init; }

    public bool Supports(string mode) => _modes.Contains(mode, StringComparer.Ordinal);

    public string Render() => string.Create(CultureInfo.InvariantCulture, $"{ProgramName} {Version} proto={Protocol} modes={string.Join(',', _modes)}{(OffersSession ? " " + SessionRules.HelloToken : "")}");

    public override string ToString() => Render();

    public bool Equals(HelloLine? other)
        => other is not null && Version == other.Version && Protocol == other.Protocol && _modes.SequenceEqual(other._modes) && OffersSession == other.OffersSession;

    public override int GetHashCode() => HashCode.Combine(Version, Protocol, string.Join(',', _modes), OffersSession);

    public static NameCheck<HelloLine> Parse(string? line)
    {
        const string form = "expected 'btrfs-send-receiver <version> proto=<n> modes=<mode>[,<mode>...]'";
        if (string.IsNullOrEmpty(line) || !ResponseLine.IsPrintableLine(line))
        {
            return NameCheck<HelloLine>.Fail($"hello line '{NameText.Printable(line ?? "")}' is empty or not printable ASCII; {form}");
        }

        var parts = line.Split(' ');
        if (parts.Length < 4 || parts[0] != ProgramName)
        {
            return NameCheck<HelloLine>.Fail($"hello line '{NameText.Printable(line)}' is not from a btrfs-send receiver; {form}");
        }

        var problem = VersionProblem(parts[1]);
        if (problem is not null)
        {
            return NameCheck<HelloLine>.Fail($"hello line: {problem}; {form}");
        }

        if (!parts[2].StartsWith("proto=", StringComparison.Ordinal)
            || !ResponseLine.TryParseCount(parts[2]["proto=".Length..], out var protocol)
            || protocol is < 1 or > 999)
        {
            return NameCheck<HelloLine>.Fail($"hello line token '{NameText.Printable(parts[2])}' is not proto=<1-999>; {form}");
        }

        if (!parts[3].StartsWith("modes=", StringComparison.Ordinal))
        {
            return NameCheck<HelloLine>.Fail($"hello line token '{NameText.Printable(parts[3])}' is not modes=...; {form}");
        }

        var modes = parts[3]["modes=".Length..].Split(',');
        problem = ModesProblem(modes);
        if (problem is not null)
        {
            return NameCheck<HelloLine>.Fail($"hello line: {problem}; {form}");
        }

        var offersSession = false;
        foreach (var extra in parts.Skip(4))
        {
            if (extra.IndexOf('=', StringComparison.Ordinal) <= 0)
            {
                return NameCheck<HelloLine>.Fail($"hello line token '{NameText.Printable(extra)}' is not key=value; {form}");
            }

            // Only the exact token counts; any other session=... is a later receiver's, and ignored.
            offersSession |= extra == SessionRules.HelloToken;
        }

        return NameCheck<HelloLine>.Ok(new HelloLine(parts[1], (int)protocol, modes) { OffersSession = offersSession });
    }

    private static string? VersionProblem(string? version)
    {
        if (string.IsNullOrEmpty(version) || version.Length > 64
            || !version.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-'))
        {
            return $"version '{NameText.Printable(version ?? "")}' is not {VersionRule}";
        }

        return null;
    }

    private static string? ProtocolProblem(int protocol)
        => protocol is < 1 or > 999 ? $"protocol {protocol} is not 1-999" : null;

    private static string? ModesProblem(IReadOnlyList<string>? modes)
    {
        if (modes is null || modes.Count == 0)
        {
            return "no modes; at least one of encrypted-stream, remote-btrfs";
        }

        foreach (var mode in modes)
        {
            if (string.IsNullOrEmpty(mode) || mode.Length > 32
                || !mode.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return $"mode '{NameText.Printable(mode ?? "")}' is not {ModeRule}";
            }
        }

        if (modes.Distinct(StringComparer.Ordinal).Count() != modes.Count)
        {
            return "a mode is listed twice";
        }

        return null;
    }
}

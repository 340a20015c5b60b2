using System.Globalization;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// What the producer declares about a stream and the receiver cannot measure (it stores opaque
/// encrypted bytes): optional <c>key=value</c> tokens after the fixed ones of <c>receive-stream</c>
/// and <c>receive</c>, in this fixed order, each at most once:
/// <c>uuid=&lt;uuid&gt; parent-uuid=&lt;uuid&gt; proto=1|2 compression=none|zstd version=&lt;version&gt; canary=&lt;32 hex&gt;</c>.
/// They only fill manifest fields; nothing on the receiver acts on them.
/// </summary>
public sealed record StreamDeclaration
{
    public const string Rule = "optional tokens in this order: uuid=<lowercase uuid> parent-uuid=<lowercase uuid> proto=1|2 compression=none|zstd version=[0-9A-Za-z.+-]{1,64} canary=<32 lowercase hex>";

    private static readonly string[] Keys = ["uuid", "parent-uuid", "proto", "compression", "version", "canary"];

    public static StreamDeclaration None { get; } = new();

    /// <summary>The source snapshot's btrfs UUID (becomes received_uuid on restore).</summary>
    public string? SnapshotUuid { get; init; }

    /// <summary>The parent snapshot's btrfs UUID (incremental only).</summary>
    public string? ParentUuid { get; init; }

    /// <summary>btrfs send protocol version; 1 when not declared.</summary>
    public int SendProto { get; init; } = 1;

    /// <summary>Compression applied before encryption; none when not declared.</summary>
    public StreamCompression Compression { get; init; } = StreamCompression.None;

    /// <summary>The producer's version string.</summary>
    public string? ProducerVersion { get; init; }

    /// <summary>The random token the producer wrote into CANARY_FILE before the snapshot (32 lowercase hex digits).</summary>
    public string? CanaryToken { get; init; }

    /// <summary>The tokens in canonical order (defaults are not rendered).</summary>
    public IEnumerable<string> ToTokens()
    {
        if (SnapshotUuid is not null)
        {
            yield return $"uuid={SnapshotUuid}";
        }

        if (ParentUuid is not null)
        {
            yield return $"parent-uuid={ParentUuid}";
        }

        if (SendProto != 1)
        {
            yield return $"proto={SendProto.ToString(CultureInfo.InvariantCulture)}";
        }

        if (Compression != StreamCompression.None)
        {
            yield return "compression=zstd";
        }

        if (ProducerVersion is not null)
        {
            yield return $"version={ProducerVersion}";
        }

        if (CanaryToken is not null)
        {
            yield return $"canary={CanaryToken}";
        }
    }

    /// <summary>Parses declaration tokens; returns the declaration or an error message.</summary>
    public static (StreamDeclaration? Value, string? Error) Parse(IReadOnlyList<string> tokens, bool isIncremental)
    {
        var result = new StreamDeclaration();
        var next = 0;
        foreach (var token in tokens)
        {
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? token[..eq] : token;
            var value = eq > 0 ? token[(eq + 1)..] : "";
            var index = Array.IndexOf(Keys, key);
            if (eq <= 0 || index < 0)
            {
                return (null, $"unexpected token '{NameText.Printable(token)}'; allowed after the fixed arguments: {Rule}");
            }

            if (index < next)
            {
                return (null, $"'{key}=' is repeated or out of order; allowed: {Rule}");
            }

            next = index + 1;
            string? problem;
            (result, problem) = key switch
            {
                "uuid" => IsUuid(value) ? (result with { SnapshotUuid = value }, null) : (result, "uuid must be a lowercase uuid"),
                "parent-uuid" when !isIncremental => (result, "parent-uuid is only allowed for an incremental"),
                "parent-uuid" => IsUuid(value) ? (result with { ParentUuid = value }, null) : (result, "parent-uuid must be a lowercase uuid"),
                "proto" => value is "1" or "2" ? (result with { SendProto = value[0] - '0' }, null) : (result, "proto must be 1 or 2"),
                "compression" => value is "none" or "zstd"
                    ? (result with { Compression = value == "zstd" ? StreamCompression.Zstd : StreamCompression.None }, null)
                    : (result, "compression must be none or zstd"),
                "canary" => ManifestKeys.IsCanaryToken(value) ? (result with { CanaryToken = value }, null) : (result, "canary must be exactly 32 lowercase hex digits"),
                _ => IsVersion(value) ? (result with { ProducerVersion = value }, null) : (result, "version must be [0-9A-Za-z.+-]{1,64}"),
            };
            if (problem is not null)
            {
                return (null, $"'{NameText.Printable(token)}': {problem}; allowed: {Rule}");
            }
        }

        // Defaults are never written explicitly, so every accepted line re-renders identically.
        if (tokens.Contains("proto=1") || tokens.Contains("compression=none"))
        {
            return (null, $"proto=1 and compression=none are the defaults and are not written; allowed: {Rule}");
        }

        return (result, null);
    }

    private static bool IsUuid(string value)
        => value.Length == 36
           && value.Select((c, i) => i is 8 or 13 or 18 or 23 ? c == '-' : c is (>= '0' and <= '9') or (>= 'a' and <= 'f')).All(ok => ok);

    private static bool IsVersion(string value)
        => value.Length is >= 1 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-');
}

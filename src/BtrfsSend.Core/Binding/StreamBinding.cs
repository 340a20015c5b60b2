using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Binding;

/// <summary>
/// What a stream is, written by the producer into the file name field of the OpenPGP literal data
/// packet, inside the encryption (docs/stream-format.md): set, snapshot, kind, parent, the source
/// snapshot's and its parent's subvolume UUIDs, the send protocol and the compression. The backup
/// server can neither read nor change it; restore and verify compare it with what the chain
/// expects. When set, snapshot and parent do not fit in the field's 255 bytes, the text carries
/// the SHA-256 of the three names instead (<see cref="NamesDigest"/>) and the names are checked
/// through it.
/// </summary>
public sealed record StreamBinding
{
    /// <summary>The version tag the text starts with.</summary>
    public const string Tag = "bsb1";

    /// <summary>The literal packet's file name field holds at most 255 bytes (RFC 4880 5.9).</summary>
    public const int MaxLength = 255;

    public const string UuidRule = "a lowercase UUID 8-4-4-4-12";

    /// <summary>The backup set, or null when the text carries <see cref="NamesDigest"/> instead.</summary>
    public BackupSet? Set { get; init; }

    /// <summary>The snapshot, or null when the text carries <see cref="NamesDigest"/> instead.</summary>
    public SnapshotName? Snapshot { get; init; }

    /// <summary>The parent of an incremental; null for a full (or when the text carries <see cref="NamesDigest"/>).</summary>
    public SnapshotName? Parent { get; init; }

    /// <summary>SHA-256 (64 lowercase hex digits) of set, snapshot and parent, when they did not fit.</summary>
    public string? NamesDigest { get; init; }

    public required StreamKind Kind { get; init; }

    public required StreamCompression Compression { get; init; }

    /// <summary>The btrfs send stream version (1 or 2).</summary>
    public required int SendProto { get; init; }

    /// <summary>The source snapshot's subvolume UUID: what <c>btrfs receive</c> records as received_uuid.</summary>
    public required string SnapshotUuid { get; init; }

    /// <summary>The parent snapshot's subvolume UUID (incrementals only).</summary>
    public string? ParentUuid { get; init; }

    /// <summary>Builds the binding of a new stream (throws <see cref="ArgumentException"/> for inconsistent values: a bug).</summary>
    public static StreamBinding Create(BackupSet set, SnapshotName snapshot, SnapshotName? parent, string snapshotUuid, string? parentUuid, int sendProto, StreamCompression compression)
    {
        var binding = new StreamBinding
        {
            Set = set,
            Snapshot = snapshot,
            Parent = parent,
            Kind = parent is null ? StreamKind.Full : StreamKind.Incremental,
            SnapshotUuid = snapshotUuid,
            ParentUuid = parentUuid,
            SendProto = sendProto,
            Compression = compression,
        };
        var check = Parse(binding.Render());
        return check.Value is not null ? binding : throw new ArgumentException($"cannot bind this stream: {check.Error}");
    }

    /// <summary>SHA-256 over <c>set LF snapshot LF parent-or-dash LF</c>, as lowercase hex.</summary>
    public static string DigestOfNames(BackupSet set, SnapshotName snapshot, SnapshotName? parent)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes($"{set.Value}\n{snapshot.Value}\n{parent?.Value ?? "-"}\n")));

    /// <summary>The text for the literal packet's file name field (ASCII, at most 255 bytes).</summary>
    public string Render()
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"{Tag} k={(Kind == StreamKind.Full ? 'f' : 'i')} c={(Compression == StreamCompression.Zstd ? 'z' : 'n')} v={SendProto} u={SnapshotUuid} pu={ParentUuid ?? "-"}");
        if (Set is { } set && Snapshot is { } snapshot)
        {
            var full = $"{head} s={set.Value} n={snapshot.Value} p={Parent?.Value ?? "-"}";
            return full.Length <= MaxLength ? full : $"{head} h={DigestOfNames(set, snapshot, Parent)}";
        }

        return $"{head} h={NamesDigest}";
    }

    /// <summary>
    /// Strictly parses a binding text: exactly the tokens, order and values
    /// <see cref="Render"/> writes; anything else is refused with one line naming what was wrong.
    /// </summary>
    public static NameCheck<StreamBinding> Parse(string text)
    {
        static NameCheck<StreamBinding> Fail(string why) => NameCheck<StreamBinding>.Fail($"stream binding {why}");

        if (text.Length == 0)
        {
            return Fail("is empty");
        }

        if (text.Length > MaxLength)
        {
            return Fail($"is {text.Length} bytes long; allowed: at most {MaxLength}");
        }

        if (text.Any(c => c is < '!' or > '~' && c != ' '))
        {
            return Fail("holds a character other than printable ASCII and single spaces");
        }

        var tokens = text.Split(' ');
        if (tokens[0] != Tag)
        {
            return tokens[0].StartsWith("bsb", StringComparison.Ordinal)
                ? Fail($"version '{NameText.Printable(tokens[0])}' is not supported; allowed: {Tag}")
                : Fail($"does not start with '{Tag} '");
        }

        string[] fullKeys = ["k", "c", "v", "u", "pu", "s", "n", "p"];
        string[] digestKeys = ["k", "c", "v", "u", "pu", "h"];
        var keys = tokens.Length == fullKeys.Length + 1 ? fullKeys : tokens.Length == digestKeys.Length + 1 ? digestKeys : null;
        if (keys is null)
        {
            return Fail($"has {tokens.Length - 1} fields; allowed: k c v u pu s n p, or k c v u pu h, separated by single spaces");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            var token = tokens[i + 1];
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0 || token[..eq] != keys[i])
            {
                return Fail($"field {i + 1} is '{NameText.Printable(token)}'; expected {keys[i]}=...");
            }

            values[keys[i]] = token[(eq + 1)..];
        }

        StreamKind kind;
        switch (values["k"])
        {
            case "f": kind = StreamKind.Full; break;
            case "i": kind = StreamKind.Incremental; break;
            default: return Fail($"k='{NameText.Printable(values["k"])}'; allowed: f (full) or i (incremental)");
        }

        StreamCompression compression;
        switch (values["c"])
        {
            case "n": compression = StreamCompression.None; break;
            case "z": compression = StreamCompression.Zstd; break;
            default: return Fail($"c='{NameText.Printable(values["c"])}'; allowed: n (none) or z (zstd)");
        }

        if (values["v"] is not ("1" or "2"))
        {
            return Fail($"v='{NameText.Printable(values["v"])}'; allowed: 1 or 2 (send stream version)");
        }

        if (!IsUuid(values["u"]))
        {
            return Fail($"u='{NameText.Printable(values["u"])}'; allowed: {UuidRule}");
        }

        var parentUuid = values["pu"];
        if (kind == StreamKind.Full ? parentUuid != "-" : !IsUuid(parentUuid))
        {
            return Fail($"pu='{NameText.Printable(parentUuid)}'; allowed: {(kind == StreamKind.Full ? "- for a full stream" : UuidRule + " for an incremental")}");
        }

        var binding = new StreamBinding
        {
            Kind = kind,
            Compression = compression,
            SendProto = values["v"][0] - '0',
            SnapshotUuid = values["u"],
            ParentUuid = kind == StreamKind.Full ? null : parentUuid,
        };
        if (keys == digestKeys)
        {
            var digest = values["h"];
            return digest.Length == 64 && digest.All(char.IsAsciiHexDigitLower)
                ? NameCheck<StreamBinding>.Ok(binding with { NamesDigest = digest })
                : Fail($"h='{NameText.Printable(digest)}'; allowed: 64 lowercase hex digits");
        }

        var set = BackupSet.Check(values["s"]);
        if (set.Value is null)
        {
            return Fail($"s: {set.Error}");
        }

        var snapshot = SnapshotName.Check(values["n"]);
        if (snapshot.Value is null)
        {
            return Fail($"n: {snapshot.Error}");
        }

        SnapshotName? parent = null;
        if (kind == StreamKind.Full)
        {
            if (values["p"] != "-")
            {
                return Fail($"p='{NameText.Printable(values["p"])}'; allowed: - for a full stream");
            }
        }
        else
        {
            var parentCheck = SnapshotName.Check(values["p"]);
            if (parentCheck.Value is null)
            {
                return Fail($"p: {parentCheck.Error}");
            }

            parent = parentCheck.Value;
            if (parent.TimestampUtc >= snapshot.Value.TimestampUtc)
            {
                return Fail($"p={parent} is not older than n={snapshot.Value}");
            }
        }

        if ((binding with { Set = set.Value, Snapshot = snapshot.Value, Parent = parent }).Render() != text)
        {
            return Fail("is not in canonical form");
        }

        return NameCheck<StreamBinding>.Ok(binding with { Set = set.Value, Snapshot = snapshot.Value, Parent = parent });
    }

    /// <summary>
    /// Null when this binding names <paramref name="set"/>, <paramref name="snapshot"/>,
    /// <paramref name="kind"/> and <paramref name="parent"/>; else one line saying which field differs.
    /// </summary>
    public string? Contradiction(BackupSet set, SnapshotName snapshot, StreamKind kind, SnapshotName? parent)
    {
        if (Kind != kind)
        {
            return $"it is bound as {KindText(Kind)}, but the chain lists it as {KindText(kind)}";
        }

        if (NamesDigest is { } digest)
        {
            return digest == DigestOfNames(set, snapshot, parent)
                ? null
                : $"its bound names (set, snapshot, parent; digest {digest[..16]}...) are not set {set}, snapshot {snapshot}, parent {parent?.Value ?? "(none)"}";
        }

        if (Set != set)
        {
            return $"it is bound to set {Set}, not {set}";
        }

        if (Snapshot != snapshot)
        {
            return $"it is bound to snapshot {Snapshot}, not {snapshot}";
        }

        return Parent == parent ? null : $"it is bound to parent {Parent?.Value ?? "(none)"}, not {parent?.Value ?? "(none)"}";
    }

    private static string KindText(StreamKind kind) => kind == StreamKind.Full ? "a full stream" : "an incremental";

    private static bool IsUuid(string value) => value.Length == 36
        && value.Select((c, i) => i is 8 or 13 or 18 or 23 ? c == '-' : char.IsAsciiDigit(c) || c is >= 'a' and <= 'f').All(ok => ok);
}

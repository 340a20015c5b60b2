using System.Globalization;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// One line of the answer to <c>list &lt;set&gt;</c> or <c>list-received &lt;set&gt;</c>:
/// <c>&lt;snapshot&gt; full|incremental &lt;parent&gt;|- &lt;bytes&gt; &lt;received_at yyyy-MM-ddTHH:mm:ssZ&gt;</c>,
/// then for <c>list</c> the optional <c>canary=&lt;32 lowercase hex&gt; compression=zstd proto=2</c> from the
/// manifest, in that order, written only when present (so a restore drill over ssh can compare
/// the canary and knows the compression and the send protocol without the manifests). <c>list-received</c> lines have none.
/// </summary>
public sealed record ListEntryLine
{
    public const string FullText = "full";
    public const string IncrementalText = "incremental";
    public const string NoParent = "-";
    public const string ReceivedAtFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    public const string Form = "<snapshot> full|incremental <parent>|- <bytes> <yyyy-MM-ddTHH:mm:ssZ> [canary=<32 lowercase hex>] [compression=zstd] [proto=2]";
    public const string OptionalRule = "optional tokens in this order, each at most once: canary=<32 lowercase hex> compression=zstd proto=2";

    private const int FixedFields = 5;
    private static readonly string[] OptionalKeys = ["canary", "compression", "proto"];

    /// <summary>Throws <see cref="ArgumentException"/> unless a parent is given exactly for an incremental.</summary>
    public ListEntryLine(SnapshotName snapshot, bool isIncremental, SnapshotName? parent, long bytes, DateTime receivedAtUtc)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (isIncremental != parent is not null)
        {
            throw new ArgumentException(isIncremental ? "an incremental needs a parent" : "a full stream has no parent", nameof(parent));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var t = receivedAtUtc.Kind == DateTimeKind.Local ? receivedAtUtc.ToUniversalTime() : receivedAtUtc;
        Snapshot = snapshot;
        IsIncremental = isIncremental;
        Parent = parent;
        Bytes = bytes;
        ReceivedAtUtc = new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, DateTimeKind.Utc);
    }

    public SnapshotName Snapshot { get; }

    public bool IsIncremental { get; }

    public SnapshotName? Parent { get; }

    /// <summary>Bytes stored for this snapshot (the stream file's size).</summary>
    public long Bytes { get; }

    /// <summary>When the receiver committed it, by the receiver's clock, to the second.</summary>
    public DateTime ReceivedAtUtc { get; }

    /// <summary>The manifest's <c>canary_token</c> (32 lowercase hex digits), when one was recorded.</summary>
    public string? CanaryToken
    {
        get;
        init => field = value is null || ManifestKeys.IsCanaryToken(value)
            ? value
            : throw new ArgumentException("a canary token is exactly 32 lowercase hex digits", nameof(value));
    }

    /// <summary>The manifest's compression (applied before encryption); none unless declared.</summary>
    public StreamCompression Compression { get; init; } = StreamCompression.None;

    /// <summary>The manifest's <c>send_proto</c>: 1 (the default, not written) or 2.</summary>
    public int SendProto
    {
        get;
        init => field = value is 1 or 2 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a send protocol is 1 or 2");
    } = 1;

    public string Render()
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{Snapshot.Value} {(IsIncremental ? IncrementalText : FullText)} {Parent?.Value ?? NoParent} {Bytes} {ReceivedAtUtc.ToString(ReceivedAtFormat, CultureInfo.InvariantCulture)}");
        if (CanaryToken is not null)
        {
            line += $" canary={CanaryToken}";
        }

        if (Compression == StreamCompression.Zstd)
        {
            line += " compression=zstd";
        }

        if (SendProto != 1)
        {
            line += " proto=2";
        }

        return line;
    }

    public override string ToString() => Render();

    public static NameCheck<ListEntryLine> Parse(string? line)
    {
        if (string.IsNullOrEmpty(line) || !ResponseLine.IsPrintableLine(line))
        {
            return NameCheck<ListEntryLine>.Fail($"list line '{NameText.Printable(line ?? "")}' is empty or not printable ASCII; expected {Form}");
        }

        var parts = line.Split(' ');
        if (parts.Length < FixedFields)
        {
            return NameCheck<ListEntryLine>.Fail($"list line '{NameText.Printable(line)}' has {parts.Length} fields; expected {Form}");
        }

        var snapshot = SnapshotName.Check(parts[0]);
        if (snapshot.Value is null)
        {
            return NameCheck<ListEntryLine>.Fail($"list line: {snapshot.Error}");
        }

        if (parts[1] is not (FullText or IncrementalText))
        {
            return NameCheck<ListEntryLine>.Fail($"list line kind '{NameText.Printable(parts[1])}' is not 'full' or 'incremental'");
        }

        var isIncremental = parts[1] == IncrementalText;
        SnapshotName? parent = null;
        if (isIncremental)
        {
            var check = SnapshotName.Check(parts[2]);
            if (check.Value is null)
            {
                return NameCheck<ListEntryLine>.Fail($"list line parent: {check.Error}");
            }

            parent = check.Value;
        }
        else if (parts[2] != NoParent)
        {
            return NameCheck<ListEntryLine>.Fail($"list line parent '{NameText.Printable(parts[2])}' of a full stream is not '-'");
        }

        if (!ResponseLine.TryParseCount(parts[3], out var bytes))
        {
            return NameCheck<ListEntryLine>.Fail($"list line byte count '{NameText.Printable(parts[3])}' is not a non-negative decimal without leading zeros");
        }

        if (!DateTime.TryParseExact(parts[4], ReceivedAtFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var receivedAt))
        {
            return NameCheck<ListEntryLine>.Fail($"list line time '{NameText.Printable(parts[4])}' is not yyyy-MM-ddTHH:mm:ssZ (UTC)");
        }

        var entry = new ListEntryLine(snapshot.Value, isIncremental, parent, bytes, DateTime.SpecifyKind(receivedAt, DateTimeKind.Utc));
        var next = 0;
        foreach (var token in parts[FixedFields..])
        {
            var eq = token.IndexOf('=', StringComparison.Ordinal);
            var index = eq > 0 ? Array.IndexOf(OptionalKeys, token[..eq]) : -1;
            if (index < 0)
            {
                return NameCheck<ListEntryLine>.Fail($"list line token '{NameText.Printable(token)}' is not allowed; {OptionalRule}");
            }

            if (index < next)
            {
                return NameCheck<ListEntryLine>.Fail($"list line token '{NameText.Printable(token)}' is repeated or out of order; {OptionalRule}");
            }

            next = index + 1;
            var value = token[(eq + 1)..];
            if (index == 0)
            {
                if (!ManifestKeys.IsCanaryToken(value))
                {
                    return NameCheck<ListEntryLine>.Fail($"list line token '{NameText.Printable(token)}': canary must be exactly 32 lowercase hex digits");
                }

                entry = entry with { CanaryToken = value };
            }
            else if (index == 2)
            {
                // Only 2 is written: 1 is the default, so every accepted line re-renders identically.
                if (value != "2")
                {
                    return NameCheck<ListEntryLine>.Fail($"list line token '{NameText.Printable(token)}': the send protocol is written only as proto=2 (1 is the default and not written)");
                }

                entry = entry with { SendProto = 2 };
            }
            else
            {
                // Only zstd is written: none is the default, so every accepted line re-renders identically.
                if (value != "zstd")
                {
                    return NameCheck<ListEntryLine>.Fail($"list line token '{NameText.Printable(token)}': compression is written only as compression=zstd (none is the default and not written)");
                }

                entry = entry with { Compression = StreamCompression.Zstd };
            }
        }

        return NameCheck<ListEntryLine>.Ok(entry);
    }
}

using System.Globalization;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Core.Ledger;

/// <summary>
/// One acknowledged upload, as one line of the producer's ledger (docs/ledger.md):
/// <c>ack1 &lt;yyyy-MM-ddTHH:mm:ssZ&gt; &lt;set&gt; &lt;snapshot&gt; full|incremental &lt;parent&gt;|- &lt;bytes&gt; &lt;sha256&gt;</c>,
/// single spaces, printable ASCII, LF-terminated. Parsing is strict: a line either re-renders
/// byte for byte or is refused with the reason.
/// </summary>
public sealed record LedgerRecord
{
    public const string Tag = "ack1";
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";
    public const string Form = "ack1 <yyyy-MM-ddTHH:mm:ssZ> <set> <snapshot> full|incremental <parent>|- <bytes> <sha256: 64 lowercase hex>";
    private const int Fields = 8;

    /// <summary>Throws <see cref="ArgumentException"/> unless a parent is given exactly for an incremental and the hash is 64 lowercase hex.</summary>
    public LedgerRecord(DateTime acknowledgedAtUtc, BackupSet set, SnapshotName snapshot, StreamKind kind, SnapshotName? parent, long bytes, string sha256)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(snapshot);
        if ((kind == StreamKind.Incremental) != parent is not null)
        {
            throw new ArgumentException(kind == StreamKind.Incremental ? "an incremental needs a parent" : "a full stream has no parent", nameof(parent));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (!IsSha256(sha256))
        {
            throw new ArgumentException("sha256 must be 64 lowercase hex digits", nameof(sha256));
        }

        var t = acknowledgedAtUtc.Kind == DateTimeKind.Local ? acknowledgedAtUtc.ToUniversalTime() : acknowledgedAtUtc;
        AcknowledgedAtUtc = new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, DateTimeKind.Utc);
        Set = set;
        Snapshot = snapshot;
        Kind = kind;
        Parent = parent;
        Bytes = bytes;
        Sha256 = sha256;
    }

    /// <summary>When the receiver's OK arrived, by prod-srv's clock, to the second.</summary>
    public DateTime AcknowledgedAtUtc { get; }

    public BackupSet Set { get; }

    public SnapshotName Snapshot { get; }

    public StreamKind Kind { get; }

    public SnapshotName? Parent { get; }

    /// <summary>Stored bytes the receiver acknowledged (the encrypted stream file's size).</summary>
    public long Bytes { get; }

    /// <summary>SHA-256 of the stored bytes, as the receiver acknowledged it.</summary>
    public string Sha256 { get; }

    public string KindText => Kind == StreamKind.Incremental ? ListEntryLine.IncrementalText : ListEntryLine.FullText;

    /// <summary>The line without its LF.</summary>
    public string Render() => string.Create(CultureInfo.InvariantCulture,
        $"{Tag} {AcknowledgedAtUtc.ToString(TimeFormat, CultureInfo.InvariantCulture)} {Set.Value} {Snapshot.Value} {KindText} {Parent?.Value ?? ListEntryLine.NoParent} {Bytes} {Sha256}");

    public override string ToString() => Render();

    /// <summary>Parses one line (without its LF); the error names the field and what is allowed.</summary>
    public static NameCheck<LedgerRecord> Parse(string line)
    {
        if (line.Length == 0)
        {
            return NameCheck<LedgerRecord>.Fail($"empty line; expected {Form}");
        }

        if (!line.All(c => c is >= ' ' and <= '~'))
        {
            return NameCheck<LedgerRecord>.Fail($"'{NameText.Printable(line)}' is not printable ASCII; expected {Form}");
        }

        var parts = line.Split(' ');
        if (parts.Length != Fields)
        {
            return NameCheck<LedgerRecord>.Fail($"{parts.Length} fields separated by single spaces, not {Fields}; expected {Form}");
        }

        if (parts[0] != Tag)
        {
            return NameCheck<LedgerRecord>.Fail($"record tag '{NameText.Printable(parts[0])}' is not '{Tag}'; expected {Form}");
        }

        if (!DateTime.TryParseExact(parts[1], TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            return NameCheck<LedgerRecord>.Fail($"time '{NameText.Printable(parts[1])}' is not yyyy-MM-ddTHH:mm:ssZ (UTC)");
        }

        var set = BackupSet.Check(parts[2]);
        if (set.Value is null)
        {
            return NameCheck<LedgerRecord>.Fail($"set: {set.Error}");
        }

        var snapshot = SnapshotName.Check(parts[3]);
        if (snapshot.Value is null)
        {
            return NameCheck<LedgerRecord>.Fail($"snapshot: {snapshot.Error}");
        }

        if (parts[4] is not (ListEntryLine.FullText or ListEntryLine.IncrementalText))
        {
            return NameCheck<LedgerRecord>.Fail($"kind '{NameText.Printable(parts[4])}' is not 'full' or 'incremental'");
        }

        var kind = parts[4] == ListEntryLine.IncrementalText ? StreamKind.Incremental : StreamKind.Full;
        SnapshotName? parent = null;
        if (kind == StreamKind.Incremental)
        {
            var check = SnapshotName.Check(parts[5]);
            if (check.Value is null)
            {
                return NameCheck<LedgerRecord>.Fail($"parent: {check.Error}");
            }

            parent = check.Value;
        }
        else if (parts[5] != ListEntryLine.NoParent)
        {
            return NameCheck<LedgerRecord>.Fail($"parent '{NameText.Printable(parts[5])}' of a full stream is not '-'");
        }

        if (!ResponseLine.TryParseCount(parts[6], out var bytes))
        {
            return NameCheck<LedgerRecord>.Fail($"byte count '{NameText.Printable(parts[6])}' is not a non-negative decimal without leading zeros");
        }

        if (!IsSha256(parts[7]))
        {
            return NameCheck<LedgerRecord>.Fail($"sha256 '{NameText.Printable(parts[7])}' is not 64 lowercase hex digits");
        }

        return NameCheck<LedgerRecord>.Ok(new LedgerRecord(DateTime.SpecifyKind(time, DateTimeKind.Utc), set.Value, snapshot.Value, kind, parent, bytes, parts[7]));
    }

    public static bool IsSha256(string? text) => text is { Length: 64 } && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}

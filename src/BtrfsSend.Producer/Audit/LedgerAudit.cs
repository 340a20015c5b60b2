using System.Globalization;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Audit;

/// <summary>
/// Pure comparison of the producer's ledger with the receiver's <c>list</c> of one set. CRITICAL:
/// the newest acknowledged upload is not listed (deleted or rolled back), a link of its chain is
/// missing, or a stream the ledger recorded is listed with another kind, parent or size
/// (replaced). WARNING: the receiver lists a snapshot newer than the newest acknowledged one
/// that the ledger does not know (an upload this producer never saw acknowledged). UNKNOWN: no
/// ledger record of the set. Older ledger records the receiver no longer lists are its own
/// retention at work, not a finding.
/// </summary>
internal static class LedgerAudit
{
    public static AuditReport Evaluate(BackupSet set, IReadOnlyList<LedgerRecord> records, IReadOnlyList<ListEntryLine> listed, string receiverDescription)
    {
        var mine = records.Where(r => r.Set == set).ToList();
        var newest = UploadLedger.NewestOf(mine, set);
        if (newest is null)
        {
            return new AuditReport(DrillOutcome.Unknown, $"audit of {set}: the ledger has no acknowledged upload of this set yet", []);
        }

        var critical = new List<string>();
        var warnings = new List<string>();
        var duplicates = listed.GroupBy(e => e.Snapshot.Value, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        foreach (var name in duplicates)
        {
            critical.Add($"the receiver lists {name} more than once");
        }

        var byName = listed.GroupBy(e => e.Snapshot.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var byLedger = mine.GroupBy(r => r.Snapshot.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

        // The newest's chain, by the ledger's parents (what was acknowledged), then by the
        // receiver's for links older than the ledger.
        var chain = 0;
        SnapshotName? current = newest.Snapshot;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (current is not null && seen.Add(current.Value))
        {
            chain++;
            byLedger.TryGetValue(current.Value, out var record);
            if (!byName.TryGetValue(current.Value, out var entry))
            {
                critical.Add(current == newest.Snapshot
                    ? $"the newest acknowledged upload {Describe(newest)} is missing on the receiver (deleted, or the store rolled back)"
                    : $"the chain of the newest acknowledged upload {newest.Snapshot} is broken: its link {current}{(record is null ? "" : $" ({record.KindText}, {record.Bytes} bytes)")} is missing on the receiver");
                break;
            }

            current = record?.Parent ?? entry.Parent;
        }

        foreach (var record in byLedger.Values.OrderByDescending(r => r.Snapshot.TimestampUtc))
        {
            if (!byName.TryGetValue(record.Snapshot.Value, out var entry))
            {
                continue;
            }

            if (entry.IsIncremental != (record.Kind == StreamKind.Incremental) || entry.Parent?.Value != record.Parent?.Value)
            {
                critical.Add($"{record.Snapshot} is listed as {(entry.IsIncremental ? $"incremental on {entry.Parent}" : "full")}, but was acknowledged as {(record.Parent is null ? "full" : $"incremental on {record.Parent}")} (replaced on the receiver)");
            }
            else if (entry.Bytes != record.Bytes)
            {
                critical.Add(string.Create(CultureInfo.InvariantCulture, $"{record.Snapshot} is listed with {entry.Bytes} bytes, but {record.Bytes} bytes were acknowledged (replaced on the receiver)"));
            }
        }

        foreach (var entry in listed.Where(e => e.Snapshot.TimestampUtc > newest.Snapshot.TimestampUtc && !byLedger.ContainsKey(e.Snapshot.Value)).OrderBy(e => e.Snapshot.Value, StringComparer.Ordinal))
        {
            warnings.Add($"the receiver lists {entry.Snapshot}, newer than the newest acknowledged upload {newest.Snapshot}, but the ledger has no record of it");
        }

        var findings = critical.Concat(warnings).ToList();
        var more = findings.Count > 1 ? $" (+{findings.Count - 1} more finding(s))" : "";
        if (critical.Count > 0)
        {
            return new AuditReport(DrillOutcome.Critical, $"audit of {set} at {receiverDescription}: {critical[0]}{more}", findings) { Newest = newest.Snapshot.Value, ChainLength = chain };
        }

        if (warnings.Count > 0)
        {
            return new AuditReport(DrillOutcome.Warning, $"audit of {set} at {receiverDescription}: {warnings[0]}{more}", findings) { Newest = newest.Snapshot.Value, ChainLength = chain };
        }

        return new AuditReport(DrillOutcome.Ok,
            string.Create(CultureInfo.InvariantCulture, $"audit of {set} at {receiverDescription}: the newest acknowledged upload {Describe(newest)} and its chain of {chain} link(s) are stored as acknowledged ({mine.Count} ledger record(s))"),
            [])
        { Newest = newest.Snapshot.Value, ChainLength = chain };
    }

    public static string Describe(LedgerRecord record) => string.Create(CultureInfo.InvariantCulture,
        $"{record.Snapshot} ({record.KindText}, {record.Bytes} bytes, acknowledged {record.AcknowledgedAtUtc.ToString(LedgerRecord.TimeFormat, CultureInfo.InvariantCulture)})");
}

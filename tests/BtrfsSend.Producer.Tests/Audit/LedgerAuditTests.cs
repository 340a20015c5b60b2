using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Audit;
using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Tests.Audit;

public sealed class LedgerAuditTests
{
    private static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");

    private static SnapshotName Snap(int hour) => SnapshotName.Create("host", new DateTimeOffset(2026, 1, 1, hour, 0, 0, TimeSpan.Zero));

    /// <summary>A full at 00:00, then incrementals each on the one before, acknowledged with 1000+hour bytes.</summary>
    private static List<LedgerRecord> Ledger(int links) => Enumerable.Range(0, links)
        .Select(h => new LedgerRecord(new DateTime(2026, 1, 1, h, 0, 5, DateTimeKind.Utc), Set, Snap(h),
            h == 0 ? StreamKind.Full : StreamKind.Incremental, h == 0 ? null : Snap(h - 1), 1000 + h, new string('a', 64)))
        .ToList();

    private static ListEntryLine Listed(LedgerRecord r, long? bytes = null)
        => new(r.Snapshot, r.Kind == StreamKind.Incremental, r.Parent, bytes ?? r.Bytes, r.AcknowledgedAtUtc);

    private static AuditReport Evaluate(IReadOnlyList<LedgerRecord> ledger, IEnumerable<ListEntryLine> listed)
        => LedgerAudit.Evaluate(Set, ledger, listed.ToList(), "backup-srv");

    [Fact]
    public void Everything_acknowledged_still_listed_is_OK_naming_the_newest_and_its_chain_length()
    {
        var ledger = Ledger(3);

        var report = Evaluate(ledger, ledger.Select(r => Listed(r)));

        Assert.Equal(DrillOutcome.Ok, report.Outcome);
        Assert.Equal($"audit of prod-srv/rootfs at backup-srv: the newest acknowledged upload {Snap(2)} (incremental, 1002 bytes, acknowledged 2026-01-01T02:00:05Z) and its chain of 3 link(s) are stored as acknowledged (3 ledger record(s))", report.Line);
    }

    [Fact]
    public void Older_records_pruned_by_the_receiver_are_not_a_finding_when_the_newest_chain_is_whole()
    {
        var ledger = Ledger(4);
        // A new full at 04:00 acknowledged; the receiver pruned the old chain.
        ledger.Add(new LedgerRecord(new DateTime(2026, 1, 1, 4, 0, 5, DateTimeKind.Utc), Set, Snap(4), StreamKind.Full, null, 7, new string('b', 64)));

        var report = Evaluate(ledger, [Listed(ledger[^1])]);

        Assert.Equal(DrillOutcome.Ok, report.Outcome);
    }

    [Fact]
    public void The_newest_acknowledged_upload_missing_is_CRITICAL_naming_it()
    {
        var ledger = Ledger(3);

        var report = Evaluate(ledger, ledger.Take(2).Select(r => Listed(r)));

        Assert.Equal(DrillOutcome.Critical, report.Outcome);
        Assert.Equal($"audit of prod-srv/rootfs at backup-srv: the newest acknowledged upload {Snap(2)} (incremental, 1002 bytes, acknowledged 2026-01-01T02:00:05Z) is missing on the receiver (deleted, or the store rolled back)", report.Line);
    }

    [Fact]
    public void A_missing_link_in_the_newest_chain_is_CRITICAL_naming_the_link()
    {
        var ledger = Ledger(3);

        var report = Evaluate(ledger, [Listed(ledger[0]), Listed(ledger[2])]);

        Assert.Equal(DrillOutcome.Critical, report.Outcome);
        Assert.Contains($"the chain of the newest acknowledged upload {Snap(2)} is broken: its link {Snap(1)} (incremental, 1001 bytes) is missing on the receiver", report.Line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_listed_with_another_size_is_CRITICAL_as_replaced()
    {
        var ledger = Ledger(2);

        var report = Evaluate(ledger, [Listed(ledger[0], bytes: 999), Listed(ledger[1])]);

        Assert.Equal(DrillOutcome.Critical, report.Outcome);
        Assert.Contains($"{Snap(0)} is listed with 999 bytes, but 1000 bytes were acknowledged (replaced on the receiver)", report.Line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_listed_as_full_that_was_acknowledged_as_an_incremental_is_CRITICAL()
    {
        var ledger = Ledger(2);

        var report = Evaluate(ledger, [Listed(ledger[0]), new ListEntryLine(Snap(1), false, null, 1001, DateTime.UnixEpoch)]);

        Assert.Equal(DrillOutcome.Critical, report.Outcome);
        Assert.Contains($"{Snap(1)} is listed as full, but was acknowledged as incremental on {Snap(0)}", report.Line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_newer_snapshot_the_ledger_never_saw_is_a_WARNING()
    {
        var ledger = Ledger(2);

        var report = Evaluate(ledger, [.. ledger.Select(r => Listed(r)), new ListEntryLine(Snap(5), true, Snap(1), 5, DateTime.UnixEpoch)]);

        Assert.Equal(DrillOutcome.Warning, report.Outcome);
        Assert.Contains($"the receiver lists {Snap(5)}, newer than the newest acknowledged upload {Snap(1)}, but the ledger has no record of it", report.Line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ledger_without_a_record_of_the_set_is_UNKNOWN()
    {
        var report = LedgerAudit.Evaluate(BackupSet.Parse("other/set"), Ledger(2), [], "backup-srv");

        Assert.Equal(DrillOutcome.Unknown, report.Outcome);
        Assert.Equal("audit of other/set: the ledger has no acknowledged upload of this set yet", report.Line);
    }

    [Fact]
    public void Restore_latest_refuses_a_newest_stored_snapshot_older_than_the_ledgers_newest_and_accepts_an_equal_or_newer_one()
    {
        var ledger = Ledger(3);
        var stored = ledger.Take(2).Select(r => new RestoreLink(r.Snapshot, r.Kind, r.Parent, r.Bytes)).ToList();

        var ex = Assert.Throws<IntegrityException>(() => RollbackGuard.Check(Set, stored, ledger, "/var/lib/l", "backup-srv (over ssh)"));
        Assert.Equal($"restore --latest: the newest stored snapshot of prod-srv/rootfs at backup-srv (over ssh) is {Snap(1)}, older than the newest acknowledged upload {Snap(2)} in LEDGER_FILE /var/lib/l (deleted or rolled back on the backup server?); nothing was restored; to restore the older one anyway give --allow-rollback or --snapshot NAME", ex.Message);

        stored.Add(new RestoreLink(Snap(2), StreamKind.Incremental, Snap(1), 1002));
        RollbackGuard.Check(Set, stored, ledger, "/var/lib/l", "x");
        stored.Add(new RestoreLink(Snap(3), StreamKind.Incremental, Snap(2), 1));
        RollbackGuard.Check(Set, stored, ledger, "/var/lib/l", "x");
    }
}

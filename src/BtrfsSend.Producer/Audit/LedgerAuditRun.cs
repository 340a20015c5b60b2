using System.Security.Cryptography;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Connection;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Audit;

/// <summary>
/// <c>audit</c>: reads LEDGER_FILE, asks the receiver for <c>list</c> of the set over ssh, compares
/// them (<see cref="LedgerAudit"/>) and, unless told not to, fetches the newest acknowledged
/// stream with <c>get</c> and compares the SHA-256 of the bytes that arrive with the ledger's: a
/// receiver can fake a list line, not the bytes. Never throws for an expected failure: it
/// becomes UNKNOWN (could not check) or CRITICAL (checked, and wrong).
/// </summary>
internal sealed class LedgerAuditRun(ProducerOptions options, ReceiverClient receiver, ILogger log)
{
    public async Task<AuditReport> RunAsync(BackupSet set, bool fetchNewest, CancellationToken cancellationToken = default)
    {
        if (options.Mode == BackupMode.RemoteBtrfs)
        {
            return new AuditReport(DrillOutcome.Unknown,
                $"audit of {set}: not supported in BACKUP_MODE=remote-btrfs (the receiver keeps received subvolumes in a LUKS volume that is closed between runs, not stored streams; no ledger is written in that mode)", []);
        }

        var ledger = new UploadLedger(options.LedgerFilePath);
        IReadOnlyList<LedgerRecord> records;
        try
        {
            if (!ledger.Exists)
            {
                return new AuditReport(DrillOutcome.Unknown, $"audit of {set}: no ledger at LEDGER_FILE {options.LedgerFilePath} yet (written by the first acknowledged upload)", []);
            }

            records = ledger.Read();
        }
        catch (Exception ex) when (ex is BtrfsSendException or IOException or UnauthorizedAccessException)
        {
            return new AuditReport(DrillOutcome.Unknown, $"audit of {set}: the ledger is unusable: {ex.Message}", []);
        }

        var where = receiver.Ssh.Target;
        IReadOnlyList<Core.Protocol.ListEntryLine> listed;
        try
        {
            listed = await receiver.ListAsync(set, cancellationToken);
        }
        catch (BtrfsSendException ex)
        {
            return new AuditReport(DrillOutcome.Unknown, $"audit of {set}: cannot list the set on {where}: {ex.Message}", []);
        }

        var report = LedgerAudit.Evaluate(set, records, listed, where);
        if (!fetchNewest || report.Outcome is DrillOutcome.Critical or DrillOutcome.Unknown)
        {
            return report;
        }

        var newest = UploadLedger.NewestOf(records, set)!;
        var link = new RestoreLink(newest.Snapshot, newest.Kind, newest.Parent, newest.Bytes);
        string sha;
        try
        {
            string? hashed = null;
            await new SshSource(receiver, set).ReadAsync(link, async (stream, token) =>
            {
                hashed = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, token));
            }, cancellationToken: cancellationToken);
            sha = hashed!;
        }
        catch (IntegrityException ex)
        {
            return Critical(report, $"the newest acknowledged upload {newest.Snapshot} could not be fetched intact: {ex.Message}");
        }
        catch (BtrfsSendException ex)
        {
            log.Warning("audit: fetching {Snapshot} failed: {Message}", newest.Snapshot, ex.Message);
            return new AuditReport(DrillOutcome.Unknown, $"audit of {set}: the list matches, but fetching the newest acknowledged upload {newest.Snapshot} to check its SHA-256 failed: {ex.Message}", report.Findings) { Newest = report.Newest, ChainLength = report.ChainLength };
        }

        if (!string.Equals(sha, newest.Sha256, StringComparison.Ordinal))
        {
            return Critical(report, $"the newest acknowledged upload {newest.Snapshot} is stored with SHA-256 {sha}, but {newest.Sha256} was acknowledged (replaced on the receiver)");
        }

        return report with
        {
            Line = report.Outcome == DrillOutcome.Ok ? report.Line.Replace(" are stored as acknowledged (", " are stored as acknowledged, the newest's SHA-256 checked (", StringComparison.Ordinal) : report.Line,
            HashChecked = true,
        };

        AuditReport Critical(AuditReport before, string finding) => new(DrillOutcome.Critical, $"audit of {set} at {where}: {finding}", [finding, .. before.Findings])
        {
            Newest = before.Newest,
            ChainLength = before.ChainLength,
        };
    }
}

using System.CommandLine;
using System.Text;
using System.Text.Json;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Audit;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary><c>audit [--config FILE] [--set SET] [--no-fetch] [--json]</c>: the ledger against the receiver's list; Nagios exit codes.</summary>
internal static class AuditCommand
{
    public const string ExitCodes =
        "The exit code is a monitoring (Nagios plugin) code and one line is printed (or one JSON object with --json):\n" +
        "  0 OK        the newest acknowledged upload and its chain are stored as acknowledged (and the newest's SHA-256 matches)\n" +
        "  1 WARNING   the receiver lists a newer snapshot the ledger has no record of\n" +
        "  2 CRITICAL  the newest acknowledged upload or a link of its chain is missing, or a stored stream's kind, parent, size or SHA-256 changed\n" +
        "  3 UNKNOWN   the audit could not run (config, no or unusable ledger, receiver unreachable, remote-btrfs mode)\n" +
        "A command-line syntax error still exits 2 before anything runs.";

    public static Command Create(ILogger log)
    {
        var config = ProducerConfig.CreateOption();
        var set = new Option<string>("--set")
        {
            Description = "The backup set to audit. Default: BACKUP_SET from --config",
            Validators = { r => SourceOptions.CheckName(r, BackupSet.Check) },
        };
        var noFetch = new Option<bool>("--no-fetch") { Description = "Compare the list only; do not download the newest acknowledged stream to compare its SHA-256" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (status, code, set, newest, chain_links, sha256_checked, summary, findings) instead of the line" };
        var command = new Command("audit", "Compare the ledger of acknowledged uploads (LEDGER_FILE) with what the receiver lists for the set: detects deleted, replaced and rolled-back streams.\n\n" + ExitCodes)
        {
            config, set, noFetch, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            AuditReport report;
            var setText = parse.GetValue(set);
            try
            {
                var options = ProducerConfig.Load(parse.GetValue(config)!, log);
                var which = setText is not null ? BackupSet.Parse(setText) : options.BackupSet;
                setText = which.Value;
                var receiver = ProducerConfig.Receiver(options, new ToolRunner());
                report = await new LedgerAuditRun(options, receiver, log).RunAsync(which, !parse.GetValue(noFetch), cancellationToken);
            }
            catch (BtrfsSendException ex)
            {
                report = new AuditReport(DrillOutcome.Unknown, $"audit could not start: {ex.Message}", []);
            }

            await Console.Out.WriteLineAsync(parse.GetValue(json) ? Json(report, setText) : $"{DrillOutcomeText.Of(report.Outcome)}: {report.Line}");
            return (int)report.Outcome;
        });
        return command;
    }

    internal static string Json(AuditReport report, string? set)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("status", DrillOutcomeText.Of(report.Outcome));
            w.WriteNumber("code", (int)report.Outcome);
            if (set is not null)
            {
                w.WriteString("set", set);
            }

            if (report.Newest is not null)
            {
                w.WriteString("newest", report.Newest);
            }

            w.WriteNumber("chain_links", report.ChainLength);
            w.WriteBoolean("sha256_checked", report.HashChecked);
            w.WriteString("summary", report.Line);
            w.WriteStartArray("findings");
            foreach (var finding in report.Findings)
            {
                w.WriteStringValue(finding);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

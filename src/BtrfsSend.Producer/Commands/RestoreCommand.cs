using System.CommandLine;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// <c>restore --set S [--snapshot NAME | --latest] --to DIR [--from PATH | --config FILE]
/// [--passphrase-file F | --key-file F] [--dry-run]</c>, and <c>restore --list</c>.
/// </summary>
internal static class RestoreCommand
{
    public static Command Create(ILogger log)
    {
        var inputs = new SourceOptions();
        var choice = new SnapshotOptions(
            snapshotHelp: "The snapshot to restore (its whole chain is received). Default: the newest stored",
            allowRollbackHelp: "Restore the newest stored snapshot even when it is older than the newest acknowledged upload in LEDGER_FILE (a deleted or rolled-back store)",
            latestHelp: "Restore the newest stored snapshot (the default)");
        var to = new Option<string>("--to") { Description = "Directory on a btrfs filesystem to receive into; links it already holds are skipped" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the chain with sizes and the equivalent plain gpg | btrfs receive commands; change nothing" };
        var list = new Option<bool>("--list") { Description = "Show the restorable snapshots and their chain lengths" };
        var command = new Command("restore", "Replay a snapshot's chain (full + incrementals) into btrfs receive, checking every link: size and SHA-256, OpenPGP integrity, send-stream structure");
        inputs.AddTo(command, choice.Snapshot, choice.Latest, to, dryRun, list, choice.AllowRollback);
        command.Validators.Add(r =>
        {
            if (r.GetValue(choice.Snapshot) is not null && r.GetValue(choice.Latest))
            {
                r.AddError("give --snapshot NAME or --latest, not both");
            }

            if (!r.GetValue(list) && r.GetValue(to) is null)
            {
                r.AddError("--to DIR is required (the btrfs directory to restore into), unless --list");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var tools = new ToolRunner();
            var resolved = inputs.Resolve(parse, tools, log);
            var (set, source, keys, _) = resolved;
            if (parse.GetValue(list))
            {
                var stored = await source.ListAsync(cancellationToken);
                await Console.Out.WriteAsync(RestoreText.List(set, source, RestorePlan.Restorable(stored)));
                return 0;
            }

            var name = choice.NameOf(parse);
            if (name is null && choice.RollbackLedgerOf(parse, resolved) is { } ledgerPath && new UploadLedger(ledgerPath).Exists)
            {
                RollbackGuard.Check(set, await source.ListAsync(cancellationToken), new UploadLedger(ledgerPath).Read(), ledgerPath, source.Description);
            }

            var restorer = new ChainRestorer(source, new TargetDirectory(parse.GetValue(to)!, tools), keys, log);
            return await restorer.RunAsync(set, name, parse.GetValue(dryRun), Console.Out, cancellationToken);
        });
        return command;
    }
}

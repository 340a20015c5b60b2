using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// <c>verify --set S [--snapshot NAME | --all] [--from PATH | --config FILE] [--passphrase-file F | --key-file F]</c>,
/// and the restore drill <c>verify --restore-test --scratch DIR [--snapshot NAME] [--canary-file PATH]</c>.
/// </summary>
internal static class VerifyCommand
{
    public const string RestoreTestExitCodes =
        "With --restore-test the exit code is a monitoring (Nagios plugin) code and one line is printed:\n" +
        "  0 OK        the chain restored and the canary matched the manifest's canary_token\n" +
        "  1 WARNING   restored, but no canary token to compare (CANARY_FILE unset when the snapshot was made, or no manifest over ssh)\n" +
        "  2 CRITICAL  the restore failed (broken chain, checksum, wrong key, btrfs receive), or the canary is missing or does not match\n" +
        "  3 UNKNOWN   the test could not run (scratch DIR missing or not on btrfs, config or key files unusable, unknown snapshot)\n" +
        "A command-line syntax error still exits 2 before any test runs.";

    public static Command Create(ILogger log)
    {
        var inputs = new SourceOptions();
        var choice = new SnapshotOptions(
            snapshotHelp: "Verify (or restore-test) this snapshot's chain. Default: the newest stored snapshot's chain",
            allowRollbackHelp: "With --restore-test: test the newest stored snapshot even when it is older than the newest acknowledged upload in LEDGER_FILE (a deleted or rolled-back store)");
        var all = new Option<bool>("--all") { Description = "Verify every stored stream, and report every broken chain" };
        var restoreTest = new Option<bool>("--restore-test")
        {
            Description = "Restore drill: receive the chain into a fresh subdirectory of --scratch, compare CANARY_FILE in the restored snapshot with the manifest's canary_token, delete everything it created; Nagios exit codes",
        };
        var scratch = new Option<string>("--scratch") { Description = "With --restore-test: a directory on a btrfs filesystem for the temporary restore (it is left as it was)" };
        var canaryFile = new Option<string>("--canary-file")
        {
            Description = $"With --restore-test: the canary's path inside the snapshot. Default: CANARY_FILE from --config, else {RestoreDrill.DefaultCanaryFile}",
        };
        var command = new Command("verify", "Decrypt and validate stored streams without receiving them (OpenPGP integrity, send-stream structure and CRC32C of every command), and check every incremental against its parent by the streams' own UUIDs; one OK/FAIL line per stream and per mismatched link, non-zero exit if any fails.\n\n" + RestoreTestExitCodes);
        inputs.AddTo(command, choice.Snapshot, all, restoreTest, scratch, canaryFile, choice.AllowRollback);
        command.Validators.Add(r =>
        {
            if (r.GetValue(choice.Snapshot) is not null && r.GetValue(all))
            {
                r.AddError("give --snapshot NAME or --all, not both");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(restoreTest))
            {
                return await RestoreTestAsync(parse, inputs, choice, all, scratch, canaryFile, log, cancellationToken);
            }

            if (parse.GetValue(scratch) is not null || parse.GetValue(canaryFile) is not null)
            {
                throw new ConfigException("--scratch and --canary-file only go with --restore-test");
            }

            if (parse.GetValue(choice.AllowRollback))
            {
                throw new ConfigException("--allow-rollback only goes with --restore-test (or restore --latest)");
            }

            var (set, source, keys, _) = inputs.Resolve(parse, new ToolRunner(), log);
            return await new ChainVerifier(source, keys, log).RunAsync(set, choice.NameOf(parse), parse.GetValue(all), Console.Out, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RestoreTestAsync(
        ParseResult parse,
        SourceOptions inputs,
        SnapshotOptions choice,
        Option<bool> all,
        Option<string> scratch,
        Option<string> canaryFile,
        ILogger log,
        CancellationToken cancellationToken)
    {
        string? problem = null;
        RestoreInputs? resolved = null;
        if (parse.GetValue(all))
        {
            problem = "--restore-test tests one snapshot's chain; give --snapshot NAME (default: the newest), not --all";
        }
        else if (parse.GetValue(scratch) is null)
        {
            problem = "--restore-test needs --scratch DIR (a directory on a btrfs filesystem)";
        }
        else if (parse.GetValue(canaryFile) is { } given && CanaryPathProblem(given) is { } bad)
        {
            problem = $"--canary-file '{NameText.Printable(given)}' {bad}; allowed: a path relative to the snapshot without '..', '.' or empty segments";
        }
        else
        {
            try
            {
                resolved = inputs.Resolve(parse, new ToolRunner(), log);
            }
            catch (BtrfsSendException ex)
            {
                problem = ex.Message;
            }
        }

        if (resolved is null)
        {
            await Console.Out.WriteLineAsync($"{DrillOutcomeText.Of(DrillOutcome.Unknown)}: restore test could not start: {problem}");
            return (int)DrillOutcome.Unknown;
        }

        var tools = new ToolRunner();
        var canary = parse.GetValue(canaryFile) ?? resolved.CanaryFilePath ?? RestoreDrill.DefaultCanaryFile;
        var drill = new RestoreDrill(resolved.Source, resolved.Keys, tools, canary, log)
        {
            RollbackLedgerFilePath = choice.RollbackLedgerOf(parse, resolved),
        };
        return await drill.RunAsync(resolved.Set, choice.NameOf(parse), parse.GetValue(scratch)!, Console.Out, cancellationToken);
    }

    private static string? CanaryPathProblem(string path)
        => path.StartsWith('/') ? "is absolute"
            : path.Any(char.IsControl) ? "contains a control character"
            : path.Split('/').Any(s => s is "" or "." or "..") ? "has a '..', '.' or empty segment"
            : null;
}

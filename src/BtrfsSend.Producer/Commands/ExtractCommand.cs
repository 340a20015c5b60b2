using System.CommandLine;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.Producer.Restore;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// <c>extract PATH (--snapshot NAME | --latest) --to DEST [--scratch DIR] [--force] [--allow-rollback]</c>
/// with restore's source and key options: one file, directory subtree or symbolic link of one snapshot.
/// </summary>
internal static class ExtractCommand
{
    public static Command Create(ILogger log)
    {
        var inputs = new SourceOptions();
        var path = new Argument<string>("PATH")
        {
            Description = "What to restore: a file, directory or symbolic link inside the snapshot, absolute (from the snapshot's root) or relative to it; no '..'",
        };
        path.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
            {
                if (SnapshotPath.Check(token.Value).Error is { } error)
                {
                    r.AddError(error);
                }
            }
        });
        var choice = new SnapshotOptions(
            snapshotHelp: "The snapshot to extract from (its whole chain is received into the scratch)",
            allowRollbackHelp: "With --latest: use the newest stored snapshot even when it is older than the newest acknowledged upload in LEDGER_FILE",
            latestHelp: "Extract from the newest stored snapshot");
        var to = new Option<string>("--to")
        {
            Description = "Where the copy goes: a path that does not exist yet, in an existing directory (any filesystem); not inside --scratch",
        };
        var scratch = new Option<string>("--scratch")
        {
            Description = "A directory on a btrfs filesystem to receive the chain into (in a fresh subdirectory, deleted afterwards). Default: the directory of --to, when it is on btrfs",
        };
        var force = new Option<bool>("--force") { Description = "Replace an existing --to (the new copy is renamed over it atomically, then the old one is removed)" };
        var command = new Command("extract", "Restore one file, directory subtree or symbolic link from one snapshot: receive its chain (every check of restore, btrfs receive --chroot) into a scratch directory on btrfs, copy PATH out with cp -a (mode, owner, timestamps, xattrs, ACLs), delete the scratch subvolumes");
        command.Arguments.Add(path);
        inputs.AddTo(command, choice.Snapshot, choice.Latest, to, scratch, force, choice.AllowRollback);
        command.Validators.Add(r =>
        {
            if ((r.GetValue(choice.Snapshot) is not null) == r.GetValue(choice.Latest))
            {
                r.AddError("give --snapshot NAME or --latest (exactly one): which snapshot to extract from");
            }

            if (r.GetValue(to) is null)
            {
                r.AddError("--to DEST is required (where the extracted copy goes)");
            }

            if (r.GetValue(choice.AllowRollback) && !r.GetValue(choice.Latest))
            {
                r.AddError("--allow-rollback only goes with --latest");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var tools = new ToolRunner();
            var resolved = inputs.Resolve(parse, tools, log);
            var extractor = new PathExtractor(resolved.Source, resolved.Keys, tools, log)
            {
                RollbackLedgerFilePath = choice.RollbackLedgerOf(parse, resolved),
            };
            return await extractor.RunAsync(resolved.Set, choice.NameOf(parse), SnapshotPath.Parse(parse.GetValue(path)!), parse.GetValue(to)!, parse.GetValue(scratch), parse.GetValue(force), Console.Out, cancellationToken);
        });
        return command;
    }
}

using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Commands.Base;
using BtrfsSend.Receiver.Pruning;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>prune [--set S | --all] [--dry-run]</c>, for cron. backup-prune-btrfs-streams.sh's form works unchanged:
/// <c>BACKUP_ROOT=... BACKUP_SET=... KEEP_DAILY=7 KEEP_WEEKLY=4 KEEP_MONTHLY=12 btrfs-backup-receive prune</c>.
/// </summary>
internal static class PruneCommand
{
    public static Command Create(ILogger log, TimeProvider clock)
    {
        var config = ReceiverConfig.CreateOption();
        var set = new Option<string?>("--set") { Description = "The backup set to prune (default: BACKUP_SET from the config or environment)" };
        var all = new Option<bool>("--all") { Description = "Prune every set under BACKUP_ROOT" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print every keep/delete decision with its reason; delete nothing" };
        var prune = new Command("prune", "Delete streams the receiver's retention policy (KEEP_*) no longer needs, never an ancestor of a kept stream; for cron")
        {
            config, set, all, dryRun,
        };
        prune.SetAction((parse, _) =>
        {
            var options = ReceiverConfig.Load(parse.GetValue(config)!, log);
            var runLog = ReceiverConfig.WithLogFile(log, options);
            var store = new StreamStore(options.BackupRootDirPath);
            var sets = ChooseSets(parse.GetValue(set), parse.GetValue(all), options.BackupSet, store);
            var pruner = new SetPruner(store, options.Keep, runLog, clock);
            var failures = 0;
            var outcomes = new List<PruneOutcome>();
            foreach (var s in sets)
            {
                var outcome = pruner.Prune(s, parse.GetValue(dryRun), Console.Out);
                outcomes.Add(outcome);
                if (!outcome.IsSuccess)
                {
                    runLog.Error("prune: {Failure}", outcome.Failure);
                    failures++;
                }
            }

            if (!parse.GetValue(dryRun) && failures == 0)
            {
                // The one line a cron run prints (the per-set lines need -v or a terminal).
                ConsoleVerbosity.Summary(runLog).Information("prune OK: {Sets} set(s), kept {Kept}, deleted {Deleted}, freed {Bytes} bytes",
                    outcomes.Count, outcomes.Sum(o => o.Kept), outcomes.Sum(o => o.Deleted), outcomes.Sum(o => o.BytesFreed));
            }

            ReceiverConfig.Close(runLog, log);
            return Task.FromResult(failures == 0 ? 0 : (int)ExitCode.IntegrityFailed);
        });
        return prune;
    }

    private static IReadOnlyList<BackupSet> ChooseSets(string? setText, bool all, BackupSet? configured, StreamStore store)
    {
        if (setText is not null && all)
        {
            throw new ConfigException("give either --set or --all, not both");
        }

        if (all)
        {
            return store.DiscoverSets();
        }

        if (setText is not null)
        {
            var check = BackupSet.Check(setText);
            return check.Value is null ? throw new ConfigException($"--set: {check.Error}") : [check.Value];
        }

        return configured is not null
            ? [configured]
            : throw new ConfigException("no set to prune: give --set S, --all, or BACKUP_SET in the config or environment");
    }
}

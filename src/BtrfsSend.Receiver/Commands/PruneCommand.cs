using System.CommandLine;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Commands.Shared;
using BtrfsSend.Receiver.Offsite;
using BtrfsSend.Receiver.Pruning;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>prune [--set S | --all] [--dry-run] [--offsite]</c>, for cron. backup-prune-btrfs-streams.sh's form works unchanged:
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
        var offsite = new Option<bool>("--offsite") { Description = "Prune the copies in the S3_BUCKET instead (same KEEP_* policy; only objects whose Object Lock expired, every version)" };
        var prune = new Command("prune", "Delete streams the receiver's retention policy (KEEP_*) no longer needs, never an ancestor of a kept stream; for cron")
        {
            config, set, all, dryRun, offsite,
        };
        prune.SetAction(async (parse, cancellationToken) =>
        {
            var options = ReceiverConfig.Load(parse.GetValue(config)!, log);
            if (parse.GetValue(offsite))
            {
                return await PruneOffsiteAsync(options, ChooseSets(parse.GetValue(set), parse.GetValue(all), options.BackupSet, new StreamStore(options.BackupRootDirPath)),
                    parse.GetValue(dryRun), log, clock, cancellationToken);
            }

            var runLog = ReceiverConfig.WithLogFile(log, options);
            var store = new StreamStore(options.BackupRootDirPath);
            var sets = ChooseSets(parse.GetValue(set), parse.GetValue(all), options.BackupSet, store);
            var pruner = new SetPruner(store, options.Keep, runLog, clock, options.MaxClockSkew);
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
            return failures == 0 ? 0 : (int)ExitCode.IntegrityFailed;
        });
        return prune;
    }

    private static Task<int> PruneOffsiteAsync(ReceiverOptions options, IReadOnlyList<BackupSet> sets, bool dryRun, ILogger log, TimeProvider clock, CancellationToken cancellationToken)
        => OffsiteRun.RunAsync(options, "prune --offsite", log, async (s3, client, runLog) =>
        {
            var pruner = new OffsitePruner(s3, client, options.Keep, runLog, clock);
            var outcomes = new List<PruneOutcome>();
            foreach (var s in sets)
            {
                try
                {
                    outcomes.Add(await pruner.PruneAsync(s, dryRun, Console.Out, cancellationToken));
                }
                catch (Exception e) when (ObjectStoreErrors.IsObjectStoreFailure(e))
                {
                    throw ObjectStoreErrors.Describe(e, s3, $"prune --offsite of set '{s}'");
                }
            }

            foreach (var failed in outcomes.Where(o => !o.IsSuccess))
            {
                runLog.Error("prune --offsite: {Failure}", failed.Failure);
            }

            if (outcomes.Any(o => !o.IsSuccess))
            {
                return (int)ExitCode.IntegrityFailed;
            }

            if (!dryRun)
            {
                ConsoleVerbosity.Summary(runLog).Information("prune --offsite OK: {Sets} set(s) in bucket {Bucket}, kept {Kept}, deleted {Deleted}, freed {Bytes} bytes",
                    outcomes.Count, s3.Bucket, outcomes.Sum(o => o.Kept), outcomes.Sum(o => o.Deleted), outcomes.Sum(o => o.BytesFreed));
            }

            return 0;
        });

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
            return [ReceiverConfig.ParseSet(setText)];
        }

        return configured is not null
            ? [configured]
            : throw new ConfigException("no set to prune: give --set S, --all, or BACKUP_SET in the config or environment");
    }
}

using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Commands.Shared;
using BtrfsSend.Receiver.Offsite;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary><c>replicate [--set S]</c>, for a timer: copies committed streams to the S3_* bucket (docs/offsite.md).</summary>
internal static class ReplicateCommand
{
    public static Command Create(ILogger log, TimeProvider clock)
    {
        var config = ReceiverConfig.CreateOption();
        var set = new Option<string?>("--set") { Description = "Copy only this backup set (default: every set under BACKUP_ROOT)" };
        var verify = new Option<bool>("--verify") { Description = "Also look up every copy recorded as offsite (size and ETag) and copy again any that is missing or changed" };
        var replicate = new Command("replicate", "Copy every committed stream and manifest the S3_BUCKET does not hold yet (Object Lock where the bucket has it), checked back; for a timer")
        {
            config, set, verify,
        };
        replicate.SetAction(async (parse, cancellationToken) =>
        {
            var options = ReceiverConfig.Load(parse.GetValue(config)!, log);
            return await OffsiteRun.RunAsync(options, "replicate", log, async (s3, client, runLog) =>
            {
                var store = new StreamStore(options.BackupRootDirPath);
                IReadOnlyList<BackupSet> sets = parse.GetValue(set) is { } text
                    ? [ReceiverConfig.ParseSet(text)]
                    : store.DiscoverSets();
                var outcome = await new Replicator(store, s3, client, runLog, clock).RunAsync(sets, parse.GetValue(verify), cancellationToken);
                foreach (var failure in outcome.Failures)
                {
                    runLog.Error("replicate: {Failure}", failure);
                }

                if (!outcome.IsSuccess)
                {
                    return (int)ExitCode.IntegrityFailed;
                }

                ConsoleVerbosity.Summary(runLog).Information("replicate OK: {Sets} set(s), uploaded {Uploaded} stream(s) ({Bytes} bytes), {Already} already offsite, bucket {Bucket} {Lock}",
                    outcome.Sets, outcome.Uploaded, outcome.UploadedBytes, outcome.AlreadyOffsite, s3.Bucket,
                    outcome.BucketLocked ? (s3.LockMode == Core.Configuration.ObjectLockSetting.None ? "has Object Lock (S3_LOCK_MODE=none: not used)" : $"locked ({s3.LockMode.ToString().ToUpperInvariant()}, {s3.LockDays} days)") : "UNLOCKED (no Object Lock)");
                return 0;
            });
        });
        return replicate;
    }
}

using System.CommandLine;
using System.Globalization;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Commands.Shared;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary><c>status</c>: last success, current parent, next full due, and the receiver's list for this set.</summary>
internal static class StatusCommand
{
    public static Command Create(ILogger log, TimeProvider clock)
    {
        var config = ProducerConfig.CreateOption();
        var status = new Command("status", "Show the last acknowledged snapshot, the next run's decision, when the next full is due, and what the receiver stores") { config };
        status.SetAction(async (parse, cancellationToken) =>
        {
            var options = ProducerConfig.Load(parse.GetValue(config)!, log);
            var tools = new ToolRunner();
            var receiver = ProducerConfig.Receiver(options, tools);
            var state = new StateFile(options.StateFilePath).Read();
            var snapshots = new LocalSnapshots(options.SnapshotDirPath, options.SnapshotPrefix, tools);
            var remote = await receiver.ListAsync(options.BackupSet, cancellationToken);
            var now = clock.GetUtcNow();
            var decision = ParentChooser.Choose(state, snapshots.List().Select(s => s.Value).ToHashSet(StringComparer.Ordinal), remote, options.FullIntervalDays, now);
            var lastFull = remote.Where(e => !e.IsIncremental).MaxBy(e => e.Snapshot.TimestampUtc);
            var o = Console.Out;
            o.WriteLine($"set:            {options.BackupSet} -> {options.SshTarget}");
            o.WriteLine($"last success:   {(state is null ? "none recorded" : $"{state} (STATE_FILE written {File.GetLastWriteTimeUtc(options.StateFilePath).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)})")}");
            o.WriteLine($"next run:       {decision.Reason}");
            o.WriteLine($"next full due:  {(lastFull is null ? "now (the receiver has no full stream)" : (lastFull.Snapshot.TimestampUtc + TimeSpan.FromDays(options.FullIntervalDays)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))} (FULL_INTERVAL_DAYS={options.FullIntervalDays})");
            o.WriteLine($"local snapshots: {snapshots.List().Count} in {options.SnapshotDirPath}");
            o.WriteLine($"receiver has {remote.Count} stream(s):");
            foreach (var entry in remote)
            {
                o.WriteLine($"  {entry.Render()}");
            }

            return 0;
        });
        return status;
    }
}

using System.CommandLine;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.Producer.RemoteBtrfs;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// <c>run [--config FILE] [--dry-run] [--bwlimit RATE]</c>, also the default when no verb is given, so prod-btrfs-backup.sh's
/// cron line <c>/usr/local/sbin/btrfs-send-backup</c> works unchanged.
/// </summary>
internal static class RunCommand
{
    public static Command Create(ILogger log, TimeProvider clock)
    {
        var command = new Command("run", "Quiesce, snapshot, send (full or incremental) encrypted to the receiver, record it, prune local snapshots (the default verb)");
        Configure(command, log, clock);
        return command;
    }

    /// <summary>Adds run's options and action to <paramref name="command"/> (the root command too).</summary>
    public static void Configure(Command command, ILogger log, TimeProvider clock)
    {
        var config = ProducerConfig.CreateOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what a run would do (decision, commands) without stopping, snapshotting or sending anything" };
        var bwlimit = ProducerConfig.CreateBwlimitOption("to the receiver (the stream going to ssh)");
        command.Options.Add(config);
        command.Options.Add(dryRun);
        command.Options.Add(bwlimit);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = ProducerConfig.Load(parse.GetValue(config)!, log);
            var options = loaded with { BandwidthLimit = ProducerConfig.BandwidthLimitOf(parse, bwlimit, loaded) };
            var tools = new ToolRunner();
            await using var receiver = ProducerConfig.Receiver(options, tools);
            var run = new BackupRun(options, tools, receiver, log, clock)
            {
                RemoteBtrfsMode = (protocol, dry, token) => new RemoteBtrfsRun(options, tools, receiver, log, clock) { Protocol = protocol }.RunAsync(dry, token),
            };
            return await run.RunAsync(parse.GetValue(dryRun), cancellationToken);
        });
    }
}

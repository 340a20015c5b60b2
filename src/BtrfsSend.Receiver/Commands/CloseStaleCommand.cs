using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Receiver.Commands.Shared;
using BtrfsSend.Receiver.Luks;
using Serilog;

namespace BtrfsSend.Receiver.Commands;

/// <summary>
/// <c>close-stale [--config FILE] [--lease-dir DIR]</c>, for cron on backup-srv (remote-btrfs):
/// unmounts and closes the LUKS volume when its session has been open longer than LUKS_LEASE, so a
/// producer that died cannot leave plaintext mounted. A local admin verb, never reachable through serve.
/// </summary>
internal static class CloseStaleCommand
{
    public static Command Create(ILogger log, TimeProvider clock)
    {
        var config = ReceiverConfig.CreateOption();
        var leaseDir = new Option<string>("--lease-dir")
        {
            Description = $"Where serve records LUKS leases (default {LuksLease.DefaultDirPath})",
            DefaultValueFactory = _ => LuksLease.DefaultDirPath,
        };
        var command = new Command("close-stale", "Close the remote-btrfs LUKS volume if it has been open longer than LUKS_LEASE; for cron")
        {
            config, leaseDir,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = ReceiverConfig.Load(parse.GetValue(config)!, log);
            var runLog = ReceiverConfig.WithLogFile(log, options);
            if (!LuksSession.IsConfigured(options))
            {
                throw new ConfigException("close-stale needs LUKS_DEVICE, LUKS_NAME, LUKS_MOUNT and RECEIVED_ROOT in the receiver's configuration");
            }

            var session = new LuksSession(options, new ToolRunner(), runLog, parse.GetValue(leaseDir)!);
            session.Lease.EnsureDirectory();
            using var volumeLock = Core.Storage.DirectoryLock.Acquire(session.Lease.LockFilePath, $"the LUKS volume {session.Name}");
            var closed = await session.CloseIfStaleAsync(clock.GetUtcNow(), cancellationToken);
            Console.Out.WriteLine(closed
                ? $"closed the LUKS volume {session.Name}: its session was older than LUKS_LEASE"
                : $"nothing to close: the LUKS volume {session.Name} has no session older than LUKS_LEASE");
            return 0;
        });
        return command;
    }
}

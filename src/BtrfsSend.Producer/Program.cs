using System.CommandLine;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Hosting;
using BtrfsSend.Producer.Commands;

namespace BtrfsSend.Producer;

internal static class Program
{
    internal const string Name = "btrfs-send-backup";

    private static async Task<int> Main(string[] args)
    {
        var verbosity = ConsoleVerbosity.ForThisProcess();
        var log = ProgramHost.CreateLogger(Name, verbosity: verbosity);
        try
        {
            var clock = TimeProvider.System;
            var root = new RootCommand(
                "Back up a btrfs subvolume: quiesce services, take a read-only snapshot, and stream " +
                "'btrfs send' (full or incremental) through OpenPGP encryption over SSH to btrfs-backup-receive. " +
                "Without a verb it runs a backup ('run'), as the cron line of prod-btrfs-backup.sh expects.\n\n" +
                "Exit codes:\n" + ProgramHost.ExitCodeTable())
            {
                RunCommand.Create(log, clock),
                StatusCommand.Create(log, clock),
                RestoreCommand.Create(log),
                ExtractCommand.Create(log),
                VerifyCommand.Create(log),
                AuditCommand.Create(log),
                KeygenCommand.Create(),
                QuiesceGuardCommand.Create(log),
                CheckConfigCommand.Create(log),
            };
            RunCommand.Configure(root, log, clock);
            return await ProgramHost.RunAsync(Name, root, args, log, verbosity: verbosity);
        }
        finally
        {
            await ((IAsyncDisposable)log).DisposeAsync();
        }
    }
}

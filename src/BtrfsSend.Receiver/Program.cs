using System.CommandLine;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Hosting;
using BtrfsSend.Receiver.Commands;

namespace BtrfsSend.Receiver;

internal static class Program
{
    internal const string Name = "btrfs-backup-receive";

    private static async Task<int> Main(string[] args)
    {
        var verbosity = ConsoleVerbosity.ForThisProcess();
        var log = ProgramHost.CreateLogger(Name, verbosity: verbosity);
        try
        {
            var clock = TimeProvider.System;
            var root = new RootCommand(
                "Receive btrfs send streams on the backup server: an SSH forced command (serve) that stores " +
                "encrypted streams append-only as root-owned 0400 files, plus prune (cron), list and check (monitoring).\n\n" +
                "Exit codes:\n" + ProgramHost.ExitCodeTable())
            {
                ServeCommand.Create(clock),
                PruneCommand.Create(log, clock),
                ReplicateCommand.Create(log, clock),
                ListCommand.Create(log),
                CheckCommand.Create(log, clock),
                CloseStaleCommand.Create(log, clock),
                AdoptCommand.Create(log),
                CheckConfigCommand.Create(log),
            };
            return await ProgramHost.RunAsync(Name, root, args, log, verbosity: verbosity);
        }
        finally
        {
            await ((IAsyncDisposable)log).DisposeAsync();
        }
    }
}

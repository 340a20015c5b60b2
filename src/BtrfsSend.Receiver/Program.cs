using System.CommandLine;
using BtrfsSend.Core.Hosting;

namespace BtrfsSend.Receiver;

internal static class Program
{
    internal const string Name = "btrfs-backup-receive";

    private static async Task<int> Main(string[] args)
    {
        var log = ProgramHost.CreateLogger(Name);
        try
        {
            var root = new RootCommand(
                "Receive btrfs send streams on the backup server: an SSH forced command (serve) that stores " +
                "encrypted streams append-only as root-owned 0400 files, plus prune (cron) and check (monitoring).\n\n" +
                "Exit codes:\n" + ProgramHost.ExitCodeTable());
            return await ProgramHost.RunAsync(Name, root, args, log);
        }
        finally
        {
            await ((IAsyncDisposable)log).DisposeAsync();
        }
    }
}

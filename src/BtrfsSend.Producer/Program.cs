using System.CommandLine;
using BtrfsSend.Core.Hosting;

namespace BtrfsSend.Producer;

internal static class Program
{
    internal const string Name = "btrfs-send-backup";

    private static async Task<int> Main(string[] args)
    {
        var log = ProgramHost.CreateLogger(Name);
        try
        {
            var root = new RootCommand(
                "Back up a btrfs subvolume: quiesce services, take a read-only snapshot, and stream " +
                "'btrfs send' (full or incremental) through OpenPGP encryption over SSH to btrfs-backup-receive.\n\n" +
                "Exit codes:\n" + ProgramHost.ExitCodeTable());
            return await ProgramHost.RunAsync(Name, root, args, log);
        }
        finally
        {
            await ((IAsyncDisposable)log).DisposeAsync();
        }
    }
}

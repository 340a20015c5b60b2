namespace BtrfsSend.TestSupport;

/// <summary>
/// Paths of the two built executables (apphosts copied beside the test assembly). Asking for one
/// sets BTRFS_SEND_LOG_LEVEL=info in the test process, so the programs it starts log every step
/// on their (redirected) stderr as on a terminal, which the tests read; the tests of the cron
/// behaviour (one summary line without a terminal) start them with a cleared environment.
/// </summary>
public static class ProgramBinaries
{
    /// <summary>The verbosity tests run the programs with (see the class summary).</summary>
    public const string TestLogLevel = "info";

    static ProgramBinaries() => Environment.SetEnvironmentVariable("BTRFS_SEND_LOG_LEVEL", TestLogLevel);

    public static string Producer => Find("btrfs-send-backup");

    public static string Receiver => Find("btrfs-backup-receive");

    private static string Find(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{name} was not built next to the tests ({path}); reference its project", path);
    }
}

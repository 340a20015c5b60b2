namespace BtrfsSend.Core.Hosting;

/// <summary>How much a program writes to stderr (the console); a LOG_FILE always gets everything from Information up.</summary>
public enum Verbosity
{
    /// <summary>--quiet or BTRFS_SEND_LOG_LEVEL=quiet: warnings and errors only.</summary>
    Quiet,

    /// <summary>The default without a terminal (cron): warnings, errors and the one summary line of a run.</summary>
    Summary,

    /// <summary>The default on a terminal, -v or BTRFS_SEND_LOG_LEVEL=info: every step.</summary>
    Info,

    /// <summary>BTRFS_SEND_LOG_LEVEL=debug: every step and the details of failures.</summary>
    Debug,
}

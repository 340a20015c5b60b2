namespace BtrfsSend.Core.Errors;

/// <summary>
/// Every exit code either program returns, in one place. Documented in README.md ("Exit codes")
/// and in each program's --help. Monitoring checks (receiver <c>check</c>) use the Nagios
/// convention 0..3 instead and do not go through this table.
/// </summary>
public enum ExitCode
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>An unexpected internal error (a bug): the full exception is logged.</summary>
    InternalError = 1,

    /// <summary>The command line was wrong (unknown option, missing argument).</summary>
    Usage = 2,

    /// <summary>Configuration invalid or unreadable; nothing was touched.</summary>
    Config = 3,

    /// <summary>Another run holds the lock for this config or set.</summary>
    LockHeld = 4,

    /// <summary>The request was refused (receiver: bad command, forbidden set, existing name; producer: receiver said ERR).</summary>
    Refused = 5,

    /// <summary>The transfer failed or was cut; nothing was committed.</summary>
    TransferFailed = 6,

    /// <summary>A quiesced service could not be restarted: the worst case, logged loudly.</summary>
    ServiceRestartFailed = 7,

    /// <summary>Integrity failure: hash, size, trailer, OpenPGP MDC or send-stream check failed.</summary>
    IntegrityFailed = 8,

    /// <summary>A required external tool or path is missing or unusable (btrfs, ssh, gpg, a mount).</summary>
    Prerequisite = 9,

    /// <summary>Storage failure on the local machine (disk full, I/O error).</summary>
    StorageFailed = 10,

    /// <summary>An external tool (btrfs, ssh, gpg, systemctl) failed; the message carries its argv, exit code and stderr tail.</summary>
    ToolFailed = 11,

    /// <summary>Interrupted by SIGINT.</summary>
    Interrupted = 130,

    /// <summary>Terminated by SIGTERM.</summary>
    Terminated = 143,
}

using Serilog.Events;

namespace BtrfsSend.Hosting;

/// <summary>The syslog priorities of sd-daemon(3) line prefixes, as <c>journalctl -p</c> selects them.</summary>
public static class JournalPriority
{
    /// <summary>Fatal 2 (crit), Error 3 (err), Warning 4 (warning), Information 6 (info), Debug and Verbose 7 (debug).</summary>
    public static int Of(LogEventLevel level) => level switch
    {
        LogEventLevel.Fatal => 2,
        LogEventLevel.Error => 3,
        LogEventLevel.Warning => 4,
        LogEventLevel.Information => 6,
        _ => 7,
    };
}

using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace BtrfsSend.Core.Hosting;

/// <summary>
/// The console (stderr) side of a program's log: quiet on success under cron. Without a terminal
/// only warnings, errors and events marked as a run's summary (<see cref="Summary"/>) are
/// written; on a terminal every step. <c>-v</c>/<c>--quiet</c> or
/// <see cref="EnvironmentVariable"/> override the default. One instance per program, made in Main.
/// </summary>
public sealed class ConsoleVerbosity
{
    /// <summary>quiet | summary | info | debug; the command line's -v/-q win over it.</summary>
    public const string EnvironmentVariable = "BTRFS_SEND_LOG_LEVEL";

    /// <summary>The property that marks a summary event.</summary>
    public const string SummaryProperty = "RunSummary";

    public ConsoleVerbosity(bool isTerminal, string? environmentValue)
    {
        Level = Parse(environmentValue) ?? (isTerminal ? Verbosity.Info : Verbosity.Summary);
    }

    public Verbosity Level { get; set; }

    /// <summary>The default for this process: stderr a terminal or not, and <see cref="EnvironmentVariable"/>.</summary>
    public static ConsoleVerbosity ForThisProcess()
        => new(!Console.IsErrorRedirected, Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>A logger whose events pass to the console even without a terminal (unless --quiet).</summary>
    public static ILogger Summary(ILogger log) => log.ForContext(SummaryProperty, true);

    /// <summary>quiet, summary, info, debug (case-insensitive), or null for anything else.</summary>
    public static Verbosity? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "quiet" => Verbosity.Quiet,
        "summary" => Verbosity.Summary,
        "info" => Verbosity.Info,
        "debug" => Verbosity.Debug,
        _ => null,
    };

    /// <summary>Whether the console shows <paramref name="logEvent"/> at the current level.</summary>
    public bool Shows(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        return Level switch
        {
            Verbosity.Debug => true,
            Verbosity.Info => logEvent.Level >= LogEventLevel.Information,
            Verbosity.Summary => logEvent.Level >= LogEventLevel.Warning || IsSummary(logEvent),
            _ => logEvent.Level >= LogEventLevel.Warning,
        };
    }

    private static bool IsSummary(LogEvent logEvent)
        => logEvent.Properties.TryGetValue(SummaryProperty, out var value) && value is ScalarValue { Value: true };
}

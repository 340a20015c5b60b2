using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Filters;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// serve's logging. sshd forwards the receiver's stderr to the client, so stderr carries only the
/// one-liners marked <see cref="ToClientProperty"/> (the refusal, already free of server paths);
/// every other line, with its full detail, goes to LOG_FILE, or to syslog when none is set.
/// </summary>
internal static class ServeLog
{
    public const string ToClientProperty = "ToClient";

    public static Logger Create(string programName, string? logFilePath)
    {
        var config = new LoggerConfiguration().MinimumLevel.Verbose()
            .Enrich.WithProperty("ProcessId", Environment.ProcessId)
            .WriteTo.Logger(client => client
                .Filter.ByIncludingOnly(Matching.WithProperty(ToClientProperty))
                .WriteTo.Console(outputTemplate: programName + ": {Message:lj}{NewLine}", standardErrorFromLevel: LevelAlias.Minimum,
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture));
        config = logFilePath is null
            ? config.WriteTo.Logger(detail => detail
                .Filter.ByExcluding(Matching.WithProperty(ToClientProperty))
                .MinimumLevel.Information()
                .WriteTo.Sink(new SyslogSink(programName)))
            : config.WriteTo.Logger(detail => detail
                .Filter.ByExcluding(Matching.WithProperty(ToClientProperty))
                // shared: several serve sessions (uploads to different sets) append to the same file at once.
                .WriteTo.File(logFilePath, shared: true, formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                    outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] [{ProcessId}] {Message:lj}{NewLine}{Exception}"));
        return config.CreateLogger();
    }
}

using System.Collections;
using System.CommandLine;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using Serilog;

namespace BtrfsSend.Receiver.Commands.Shared;

/// <summary>The <c>--config</c> option every verb shares, loading the validated options once, and reading <c>--set</c>.</summary>
internal static class ReceiverConfig
{
    public const string DefaultFilePath = "/etc/default/btrfs-backup-receive";

    public static Option<string> CreateOption() => new("--config")
    {
        Description = $"Receiver settings (shell-style KEY=value lines; may be missing, then defaults + environment). Default: {DefaultFilePath}",
        DefaultValueFactory = _ => DefaultFilePath,
    };

    /// <summary>The set named by <c>--set</c>; a name the rules refuse is one usage line ("--set: why").</summary>
    public static BackupSet ParseSet(string text)
    {
        var check = BackupSet.Check(text);
        return check.Value ?? throw new ConfigException($"--set: {check.Error}");
    }

    /// <summary>Loads file &lt; environment &lt; <paramref name="overrides"/>; logs warnings; throws <see cref="ConfigException"/> with every error.</summary>
    public static ReceiverOptions Load(string filePath, ILogger log, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var result = ConfigLoader.LoadReceiver(filePath, Environment(), overrides ?? new Dictionary<string, string?>());
        foreach (var warning in result.Warnings)
        {
            log.Warning("config: {Warning}", warning.ToString());
        }

        if (!result.IsValid)
        {
            foreach (var error in result.Errors)
            {
                log.Error("config: {Error}", error.ToString());
            }

            throw new ConfigException($"configuration invalid ({result.Errors.Count} error{(result.Errors.Count == 1 ? "" : "s")}): {string.Join("; ", result.Errors.Select(e => e.ToString()))}");
        }

        return result.Options!;
    }

    /// <summary>Adds the configured LOG_FILE to <paramref name="log"/>.</summary>
    public static ILogger WithLogFile(ILogger log, ReceiverOptions options)
        => options.LogFilePath is null
            ? log
            : new LoggerConfiguration().MinimumLevel.Verbose()
                .Enrich.WithProperty("ProcessId", System.Environment.ProcessId)
                .WriteTo.Logger(log)
                // shared: several serve sessions (uploads to different sets) append to the same file at once.
                .WriteTo.File(options.LogFilePath, shared: true, formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                    outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] [{ProcessId}] {Message:lj}{NewLine}{Exception}")
                .CreateLogger();

    /// <summary>Disposes (and so flushes) a logger made by <see cref="WithLogFile"/>, never the program's own.</summary>
    public static void Close(ILogger logger, ILogger programLog)
    {
        if (!ReferenceEquals(logger, programLog) && logger is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    private static Dictionary<string, string?> Environment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            result[(string)entry.Key] = (string?)entry.Value;
        }

        return result;
    }
}

using System.CommandLine;
using System.Runtime.InteropServices;
using BtrfsSend.Core.Errors;
using Serilog;
using Serilog.Events;

namespace BtrfsSend.Core.Hosting;

/// <summary>
/// What both programs' Program.cs share: parse, wire SIGINT/SIGTERM to one cancellation token,
/// run, and map every outcome to an exit code in one place (<see cref="ExitCode"/>).
/// Expected failures print one line; bugs are logged with their stack trace.
/// </summary>
public static class ProgramHost
{
    /// <summary>Builds the stderr logger (stdout is reserved for protocol/command output).</summary>
    public static ILogger CreateLogger(string programName, LogEventLevel minimumLevel = LogEventLevel.Information, string? logFilePath = null)
    {
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(minimumLevel)
            .Enrich.WithProperty("Program", programName)
            .Enrich.WithProperty("ProcessId", Environment.ProcessId)
            .WriteTo.Console(
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LevelAlias.Minimum,
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        if (logFilePath is not null)
        {
            config = config.WriteTo.File(
                logFilePath,
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] [{ProcessId}] {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }

        return config.CreateLogger();
    }

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/>, runs the chosen action and returns the exit code.</summary>
    public static async Task<int> RunAsync(string programName, RootCommand root, string[] args, ILogger log, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        // No response files: an argument such as "@/etc/shadow" must stay a literal token (the
        // receiver's serve command gets attacker-controlled text as its last argument).
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await stderr.WriteLineAsync($"{programName}: {error.Message}");
            }

            await stderr.WriteLineAsync($"Try '{programName} --help'.");
            return (int)ExitCode.Usage;
        }

        using var cts = new CancellationTokenSource();
        var signal = ExitCode.Ok;
        void OnSignal(PosixSignalContext context, ExitCode code)
        {
            // Keep the process alive so finally-blocks (restart services, close LUKS, delete temp files) run.
            context.Cancel = true;
            if (signal == ExitCode.Ok)
            {
                signal = code;
                log.Warning("Received {Signal}; stopping and cleaning up", context.Signal);
            }

            cts.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => OnSignal(c, ExitCode.Interrupted));
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => OnSignal(c, ExitCode.Terminated));

        try
        {
            var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
            var code = await parse.InvokeAsync(invocation, cts.Token);
            return signal != ExitCode.Ok ? (int)signal : code;
        }
        catch (OperationCanceledException) when (signal != ExitCode.Ok)
        {
            await stderr.WriteLineAsync($"{programName}: {(signal == ExitCode.Terminated ? "terminated by SIGTERM" : "interrupted by SIGINT")}; nothing half-done was recorded as done");
            return (int)signal;
        }
        catch (BtrfsSendException ex)
        {
            log.Error("{Message}", ex.Message);
            log.Debug(ex, "Details");
            if (signal != ExitCode.Ok)
            {
                return (int)signal;
            }

            return (int)ex.ExitCode;
        }
        catch (Exception ex)
        {
            log.Fatal(ex, "Internal error (a bug; please report it with this log): {Message}", ex.Message);
            return (int)ExitCode.InternalError;
        }
    }

    /// <summary>The exit-code table for --help epilogues and the README.</summary>
    public static string ExitCodeTable() => string.Join(Environment.NewLine, Enum.GetValues<ExitCode>()
        .Select(c => $"  {(int)c,3}  {c}"));
}

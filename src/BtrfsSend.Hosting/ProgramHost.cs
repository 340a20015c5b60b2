using System.CommandLine;
using System.Runtime.InteropServices;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using Serilog;
using Serilog.Events;

namespace BtrfsSend.Hosting;

/// <summary>
/// What both programs' Program.cs share: parse, wire SIGINT/SIGTERM to one cancellation token,
/// run, and map every outcome to an exit code in one place (<see cref="ExitCode"/>).
/// Expected failures print one line; bugs are logged with their stack trace.
/// </summary>
public static class ProgramHost
{
    /// <summary>
    /// Builds the stderr logger (stdout is reserved for protocol/command output). With
    /// <paramref name="verbosity"/> the console shows what it allows (quiet on success under cron);
    /// without it, everything from <paramref name="minimumLevel"/> up. When stderr is the systemd
    /// journal (<see cref="JournalStream"/>; <paramref name="journal"/> null = detect) each line
    /// starts with its sd-daemon priority instead of a timestamp (<see cref="JournalFormatter"/>).
    /// </summary>
    public static ILogger CreateLogger(string programName, LogEventLevel minimumLevel = LogEventLevel.Information, string? logFilePath = null, ConsoleVerbosity? verbosity = null, bool? journal = null)
    {
        var toJournal = journal ?? JournalStream.IsStandardError();
        var config = new LoggerConfiguration()
            .MinimumLevel.Is(verbosity is null ? minimumLevel : LogEventLevel.Debug)
            .Enrich.WithProperty("Program", programName)
            .Enrich.WithProperty("ProcessId", Environment.ProcessId)
            .WriteTo.Logger(console =>
            {
                console.Filter.ByIncludingOnly(e => verbosity?.Shows(e) ?? e.Level >= minimumLevel);
                if (toJournal)
                {
                    console.WriteTo.Console(new JournalFormatter(), standardErrorFromLevel: LevelAlias.Minimum);
                }
                else
                {
                    console.WriteTo.Console(
                        outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}",
                        standardErrorFromLevel: LevelAlias.Minimum,
                        formatProvider: System.Globalization.CultureInfo.InvariantCulture);
                }
            });
        if (logFilePath is not null)
        {
            config = config.WriteTo.File(
                logFilePath,
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] [{ProcessId}] {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        }

        return config.CreateLogger();
    }

    /// <summary>
    /// Parses <paramref name="args"/> against <paramref name="root"/>, runs the chosen action and returns the exit code.
    /// With <paramref name="verbosity"/>, every verb also takes <c>-v</c>/<c>--verbose</c> and <c>-q</c>/<c>--quiet</c>.
    /// </summary>
    public static async Task<int> RunAsync(string programName, RootCommand root, string[] args, ILogger log, TextWriter? stderr = null, ConsoleVerbosity? verbosity = null)
    {
        stderr ??= Console.Error;
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Log every step to stderr, as on a terminal; without a terminal the default is warnings, errors and one summary line",
            Recursive = true,
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Log only warnings and errors to stderr (no summary line)", Recursive = true };
        if (verbosity is not null)
        {
            root.Options.Add(verbose);
            root.Options.Add(quiet);
        }

        root.Subcommands.Add(CompletionCommand.Create(programName, root));

        // No response files: an argument such as "@/etc/shadow" must stay a literal token (the
        // receiver's serve command gets attacker-controlled text as its last argument).
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        IReadOnlyList<string>? usageError = parse.Errors.Count > 0 ? [.. parse.Errors.Select(e => e.Message)]
            : verbosity is not null && parse.GetValue(quiet) && parse.GetValue(verbose) ? ["--quiet and --verbose exclude each other"]
            : null;
        if (usageError is not null)
        {
            foreach (var message in usageError)
            {
                await stderr.WriteLineAsync($"{programName}: {message}");
            }

            await stderr.WriteLineAsync($"Try '{programName} --help'.");
            return (int)ExitCode.Usage;
        }

        if (verbosity is not null)
        {
            verbosity.Level = parse.GetValue(quiet) ? Verbosity.Quiet
                : parse.GetValue(verbose) && verbosity.Level != Verbosity.Debug ? Verbosity.Info
                : verbosity.Level;
        }

        return await InvokeAsync(programName, parse, log, stderr);
    }

    /// <summary>Runs the parsed action with SIGINT/SIGTERM wired to its cancellation token and maps its outcome to an exit code.</summary>
    private static async Task<int> InvokeAsync(string programName, ParseResult parse, ILogger log, TextWriter stderr)
    {
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

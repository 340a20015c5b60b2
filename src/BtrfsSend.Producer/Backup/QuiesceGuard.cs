using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Systemd;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// The guard side of the quiesce window (the hidden verb <c>quiesce-guard</c>): it reads the
/// producer's pipe on <paramref name="input"/>, one <c>stop UNIT</c> line per unit the producer
/// is about to stop and finally <c>done</c> when the producer has restarted them itself. End of input
/// without <c>done</c> (the producer died, even by SIGKILL) or the deadline passing first
/// (QUIESCE_TIMEOUT_SECONDS) makes it run <c>systemctl start</c> for exactly the reported units,
/// in reverse order. Returns the units it restarted (empty after <c>done</c>).
/// </summary>
internal static class QuiesceGuard
{
    public const string Verb = "quiesce-guard";

    public static async Task<IReadOnlyList<string>> RunAsync(TextReader input, TimeSpan timeout, ToolRunner tools, ILogger log)
    {
        var stopped = new List<string>();
        var gate = new object();
        var reading = Task.Run(async () =>
        {
            while (await input.ReadLineAsync() is { } line)
            {
                if (line == "done")
                {
                    return true;
                }

                if (line.StartsWith("stop ", StringComparison.Ordinal) && IsUnitName(line["stop ".Length..]))
                {
                    lock (gate)
                    {
                        stopped.Add(line["stop ".Length..]);
                    }
                }
            }

            return false;
        });
        var first = await Task.WhenAny(reading, Task.Delay(timeout));
        if (first == reading && await reading)
        {
            return [];
        }

        string[] toStart;
        lock (gate)
        {
            toStart = [.. stopped];
        }

        var why = first == reading
            ? "the producer ended without closing the quiesce window (killed?)"
            : $"the quiesce window exceeded QUIESCE_TIMEOUT_SECONDS ({timeout.TotalSeconds:F0} s)";
        var restarted = new List<string>();
        for (var i = toStart.Length - 1; i >= 0; i--)
        {
            var start = await tools.TryRunAsync(SystemctlArgv.Start(toStart[i]), cancellationToken: CancellationToken.None);
            if (start.IsSuccess)
            {
                restarted.Add(toStart[i]);
                log.Warning("quiesce guard: {Why}; restarted {Service}", why, toStart[i]);
            }
            else
            {
                log.Fatal("quiesce guard: {Why}; SERVICE {Service} COULD NOT BE RESTARTED (systemctl start exited {Code}); it is DOWN, start it by hand", why, toStart[i], start.ExitCode);
            }
        }

        return restarted;
    }

    /// <summary>The unit names SERVICES_TO_QUIESCE allows; anything else on the pipe is ignored.</summary>
    private static bool IsUnitName(string unit)
        => unit.Length > 0 && unit[0] != '-' && unit.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '.' or '@' or '-');
}

using System.CommandLine;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using Serilog;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// The hidden verb <c>quiesce-guard --timeout SECONDS</c>, started by the producer itself just
/// before it stops services (never by hand): see <see cref="QuiesceGuard"/>. Its stdout and
/// stderr are /dev/null, so what it restarts also goes to syslog through logger(1).
/// </summary>
internal static class QuiesceGuardCommand
{
    public static Command Create(ILogger log)
    {
        var timeout = new Option<int>("--timeout") { Description = "Seconds after which the reported units are restarted anyway", Required = true };
        var command = new Command(QuiesceGuard.Verb, "Internal: restarts the services the producer stopped if it dies in the quiesce window") { timeout };
        command.Hidden = true;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var tools = new ToolRunner();
            var seconds = Math.Clamp(parse.GetValue(timeout), 1, 86400);
            var restarted = await QuiesceGuard.RunAsync(Console.In, TimeSpan.FromSeconds(seconds), tools, log);
            if (restarted.Count > 0)
            {
                await tools.TryRunAsync(
                    ["logger", "-t", Program.Name, "-p", "daemon.warning", "--", "quiesce guard restarted " + string.Join(' ', restarted)],
                    cancellationToken: CancellationToken.None);
            }

            return 0;
        });
        return command;
    }
}

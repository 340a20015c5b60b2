using System.Diagnostics;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Services;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// Stops the listed services that are running, runs the snapshot, and restarts exactly the
/// ones it stopped in reverse order — in a finally, so also when the snapshot fails or SIGTERM
/// cancels the run (restarts never use the run's cancellation token). A service that fails to
/// stop aborts before the snapshot. A service that fails to restart is the worst case:
/// logged loudly and reported as <see cref="ServiceRestartException"/> (exit 7).
/// </summary>
internal sealed class Quiescer(ToolRunner tools, ILogger log)
{
    public async Task<T> RunQuiescedAsync<T>(
        IReadOnlyList<string> services,
        IReadOnlyList<string> preHook,
        IReadOnlyList<string> postHook,
        Func<Task<T>> snapshot,
        CancellationToken cancellationToken = default)
    {
        var stopped = new List<string>();
        var window = Stopwatch.StartNew();
        Exception? failure = null;
        var result = default(T);
        try
        {
            if (preHook.Count > 0)
            {
                log.Information("running PRE_SNAPSHOT_HOOK {Hook}", Argv.Render(preHook));
                await tools.RunAsync(preHook, cancellationToken: cancellationToken);
            }

            foreach (var service in services)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var active = await tools.TryRunAsync(SystemctlArgv.IsActive(service), cancellationToken: cancellationToken);
                if (!active.IsSuccess)
                {
                    log.Information("service {Service} is not running; left alone", service);
                    continue;
                }

                var stop = await tools.TryRunAsync(SystemctlArgv.Stop(service), cancellationToken: CancellationToken.None);
                if (!stop.IsSuccess)
                {
                    // It may be half-stopped: include it in the restarts.
                    stopped.Add(service);
                    throw new ToolFailedException(stop.Argv, stop.ExitCode, stop.StandardErrorTail);
                }

                stopped.Add(service);
                log.Information("stopped {Service}", service);
            }

            cancellationToken.ThrowIfCancellationRequested();
            result = await snapshot();
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            var failedRestarts = await RestartAsync(stopped);
            if (postHook.Count > 0)
            {
                var post = await tools.TryRunAsync(postHook, cancellationToken: CancellationToken.None);
                if (!post.IsSuccess)
                {
                    log.Error("POST_SNAPSHOT_HOOK {Hook} failed with {Code}: {Stderr}", Argv.Render(postHook), post.ExitCode, post.StandardErrorTail);
                }
            }

            log.Information("services stopped for {Seconds:F2} s ({Count} stopped)", window.Elapsed.TotalSeconds, stopped.Count);
            if (failedRestarts.Count > 0)
            {
                throw new ServiceRestartException(failedRestarts, failure);
            }
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return result!;
    }

    private async Task<List<string>> RestartAsync(List<string> stopped)
    {
        var failed = new List<string>();
        for (var i = stopped.Count - 1; i >= 0; i--)
        {
            var start = await tools.TryRunAsync(SystemctlArgv.Start(stopped[i]), cancellationToken: CancellationToken.None);
            if (start.IsSuccess)
            {
                log.Information("restarted {Service}", stopped[i]);
            }
            else
            {
                failed.Add(stopped[i]);
                log.Fatal("SERVICE {Service} COULD NOT BE RESTARTED (systemctl start exited {Code}: {Stderr}); it is DOWN, start it by hand", stopped[i], start.ExitCode, start.StandardErrorTail);
            }
        }

        return failed;
    }
}

using System.Diagnostics;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Systemd;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// The quiesce window. <see cref="PlanAsync"/> asks systemctl, before anything is touched, which
/// listed units may be running; an answer that is not a unit state (systemctl cannot reach
/// systemd, say) is a prerequisite failure, never "not running". <see cref="RunQuiescedAsync{T}(QuiescePlan, IReadOnlyList{string}, IReadOnlyList{string}, Func{Task{T}}, CancellationToken)"/>
/// stops those units, checks that no listed unit is still running (a socket-activated unit may
/// come back; a unit in <see cref="MayRun"/> may), runs the snapshot, and restarts exactly the
/// units it stopped in reverse order — in a finally, so also when a stop or the snapshot fails or
/// SIGTERM cancels the run (restarts never use the run's cancellation token). A unit that failed
/// to stop is restarted too (it may be half-stopped). A service that fails to restart is the
/// worst case: logged loudly and reported as <see cref="ServiceRestartException"/> (exit 7).
/// </summary>
internal sealed class Quiescer(ToolRunner tools, ILogger log)
{
    /// <summary>SERVICES_MAY_RUN: units whose snapshot may be taken while they run (a failed stop is a warning).</summary>
    public IReadOnlySet<string> MayRun { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// QUIESCE_TIMEOUT_SECONDS: the longest the window may last. A window that reaches it minus
    /// <see cref="TimeoutMargin"/> before the snapshot is aborted: the guard restarts the units at
    /// the deadline, so a later snapshot might no longer be quiescent.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Starts the guard that restarts the stopped units if this process dies in the window (none: no guard).</summary>
    public Func<TimeSpan, QuiesceGuardProcess>? StartGuard { get; init; }

    /// <summary>How long before the deadline the snapshot is no longer started.</summary>
    public static readonly TimeSpan TimeoutMargin = TimeSpan.FromSeconds(5);

    /// <summary>Asks systemctl about every unit; throws <see cref="PrerequisiteException"/> when it cannot answer.</summary>
    public async Task<QuiescePlan> PlanAsync(IReadOnlyList<string> services, CancellationToken cancellationToken = default)
    {
        var toStop = new List<string>();
        var states = new List<string>();
        foreach (var service in services)
        {
            var answer = await tools.TryRunAsync(SystemctlArgv.IsActive(service), cancellationToken: cancellationToken);
            var activity = IsActiveAnswer.Interpret(service, answer);
            var state = answer.StandardOutput.Trim();
            states.Add(state.Length == 0 ? "active" : state);
            switch (activity)
            {
                case UnitActivity.Running:
                    toStop.Add(service);
                    break;
                case UnitActivity.NotRunning:
                    log.Information("service {Service} is not running ({State}); left alone", service, state);
                    break;
                default:
                    log.Warning("systemd does not know service {Service} (is-active: {State}); left alone: check SERVICES_TO_QUIESCE", service, state);
                    break;
            }
        }

        return new QuiescePlan(services, toStop, states);
    }

    /// <summary>Plans and runs the window in one go (the plan is asked for just before the window).</summary>
    public async Task<T> RunQuiescedAsync<T>(
        IReadOnlyList<string> services,
        IReadOnlyList<string> preHook,
        IReadOnlyList<string> postHook,
        Func<Task<T>> snapshot,
        CancellationToken cancellationToken = default)
        => await RunQuiescedAsync(await PlanAsync(services, cancellationToken), preHook, postHook, snapshot, cancellationToken);

    public async Task<T> RunQuiescedAsync<T>(
        QuiescePlan plan,
        IReadOnlyList<string> preHook,
        IReadOnlyList<string> postHook,
        Func<Task<T>> snapshot,
        CancellationToken cancellationToken = default)
    {
        var stopped = new List<string>();
        var window = Stopwatch.StartNew();
        Exception? failure = null;
        var result = default(T);
        QuiesceGuardProcess? guard = null;
        try
        {
            if (StartGuard is not null && plan.ToStop.Count > 0)
            {
                guard = StartGuard(Timeout);
            }

            if (preHook.Count > 0)
            {
                log.Information("running PRE_SNAPSHOT_HOOK {Hook}", Argv.Render(preHook));
                await tools.RunAsync(preHook, cancellationToken: cancellationToken);
            }

            await StopAsync(plan, stopped, guard, cancellationToken);
            await VerifyQuietAsync(plan, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            if (stopped.Count > 0 && window.Elapsed >= Timeout - TimeoutMargin)
            {
                throw new PrerequisiteException(
                    $"the quiesce window lasted {window.Elapsed.TotalSeconds:F0} s, too close to QUIESCE_TIMEOUT_SECONDS ({Timeout.TotalSeconds:F0} s) at which the guard restarts the services; " +
                    "no snapshot was taken and nothing was recorded (raise QUIESCE_TIMEOUT_SECONDS, or find what makes the stops or PRE_SNAPSHOT_HOOK slow)");
            }

            result = await snapshot();
            if (stopped.Count > 0 && window.Elapsed >= Timeout)
            {
                // The guard restarted the services at the deadline, while the snapshot was still running.
                log.Warning(
                    "the snapshot finished {Seconds:F0} s after the services were stopped, past QUIESCE_TIMEOUT_SECONDS ({Timeout:F0} s): the quiesce guard had restarted them already, so this snapshot may not be quiescent",
                    window.Elapsed.TotalSeconds, Timeout.TotalSeconds);
            }
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        finally
        {
            var failedRestarts = await RestartAsync(stopped);
            if (guard is not null)
            {
                await guard.DoneAsync();
                guard.Dispose();
            }

            await RunPostHookAsync(postHook);
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

    /// <summary>
    /// Stops the plan's units one by one; each goes into <paramref name="stopped"/> once its stop
    /// returned, whatever the result, so it is restarted even after a failed stop.
    /// </summary>
    private async Task StopAsync(QuiescePlan plan, List<string> stopped, QuiesceGuardProcess? guard, CancellationToken cancellationToken)
    {
        foreach (var service in plan.ToStop)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Before the stop: a producer killed while systemctl stop runs still leaves the unit stopped.
            guard?.Stopping(service);
            var stop = await tools.TryRunAsync(SystemctlArgv.Stop(service), cancellationToken: CancellationToken.None);

            // Restarted in any case: a failed stop may have half-stopped it.
            stopped.Add(service);
            if (stop.IsSuccess)
            {
                log.Information("stopped {Service}", service);
            }
            else if (MayRun.Contains(service))
            {
                log.Warning("could not stop {Service} ({Failure}); SERVICES_MAY_RUN lists it, so the snapshot is taken anyway", service, new ToolFailedException(stop.Argv, stop.ExitCode, stop.StandardErrorTail).Message);
            }
            else
            {
                throw new ToolFailedException(stop.Argv, stop.ExitCode, stop.StandardErrorTail);
            }
        }
    }

    /// <summary>POST_SNAPSHOT_HOOK, after the restarts; its failure is logged, never thrown (the snapshot is good).</summary>
    private async Task RunPostHookAsync(IReadOnlyList<string> postHook)
    {
        if (postHook.Count > 0)
        {
            var post = await tools.TryRunAsync(postHook, cancellationToken: CancellationToken.None);
            if (!post.IsSuccess)
            {
                log.Error("POST_SNAPSHOT_HOOK {Hook} failed with {Code}: {Stderr}", Argv.Render(postHook), post.ExitCode, post.StandardErrorTail);
            }
        }
    }

    /// <summary>
    /// Just before the snapshot: no listed unit outside SERVICES_MAY_RUN may be running (stopped
    /// ones must have stayed stopped; one that started since the plan must not slip through).
    /// </summary>
    private async Task VerifyQuietAsync(QuiescePlan plan, CancellationToken cancellationToken)
    {
        foreach (var service in plan.Services)
        {
            if (MayRun.Contains(service))
            {
                continue;
            }

            var answer = await tools.TryRunAsync(SystemctlArgv.IsActive(service), cancellationToken: cancellationToken);
            if (IsActiveAnswer.Interpret(service, answer) == UnitActivity.Running)
            {
                throw new PrerequisiteException(
                    $"service {service} is running ({answer.StandardOutput.Trim()}) in the quiesce window although it should be stopped; " +
                    "no snapshot was taken and nothing was recorded (list it in SERVICES_MAY_RUN if a snapshot of it running is acceptable)");
            }
        }
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

using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class QuiescerTests
{
    private static readonly string[] NoHook = [];

    [Fact]
    public async Task Only_running_services_are_stopped_and_they_are_restarted_in_reverse_order()
    {
        using var systemctl = new FakeSystemctl("a", "c", "d");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);

        var result = await quiescer.RunQuiescedAsync(["a", "b", "c", "d"], NoHook, NoHook, () =>
        {
            systemctl.Mark("snapshot");
            Assert.Empty(systemctl.Running);
            return Task.FromResult(42);
        });

        Assert.Equal(42, result);
        Assert.Equal(["stop a", "stop c", "stop d", "start d", "start c", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "c", "d"], systemctl.Running);
        Assert.Equal(
            ["systemctl is-active -- a", "systemctl is-active -- b", "systemctl is-active -- c", "systemctl is-active -- d",
             "systemctl stop -- a", "systemctl stop -- c", "systemctl stop -- d",
             "systemctl is-active -- a", "systemctl is-active -- b", "systemctl is-active -- c", "systemctl is-active -- d", "snapshot"],
            systemctl.Log.Take(12));
    }

    [Fact]
    public async Task When_the_snapshot_throws_the_stopped_services_are_still_restarted_and_the_exception_propagates()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);

        var thrown = await Assert.ThrowsAsync<ToolFailedException>(() => quiescer.RunQuiescedAsync<bool>(["a", "b"], NoHook, NoHook,
            () => throw new ToolFailedException(["btrfs", "subvolume", "snapshot"], 1, "ERROR: no space left")));

        Assert.Contains("no space left", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }

    [Fact]
    public async Task A_service_that_fails_to_stop_aborts_before_the_snapshot_and_the_ones_already_stopped_are_restarted()
    {
        using var systemctl = new FakeSystemctl("a", "b", "c");
        systemctl.FailStop("b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        var snapshotCalled = false;

        var thrown = await Assert.ThrowsAsync<ToolFailedException>(() => quiescer.RunQuiescedAsync(["a", "b", "c"], NoHook, NoHook, () =>
        {
            snapshotCalled = true;
            return Task.FromResult(true);
        }));

        Assert.False(snapshotCalled);
        Assert.Contains("stop", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("Job for b failed", thrown.Message, StringComparison.Ordinal);
        // c was never stopped; b (possibly half-stopped) and a are started again, b first.
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.DoesNotContain(systemctl.Log, l => l.EndsWith("-- c", StringComparison.Ordinal) && !l.Contains("is-active", StringComparison.Ordinal));
        Assert.Equal(["a", "b", "c"], systemctl.Running);
    }

    [Fact]
    public async Task A_service_that_fails_to_restart_is_reported_with_exit_7_after_every_other_one_was_tried()
    {
        using var systemctl = new FakeSystemctl("a", "b", "c");
        systemctl.FailStart("b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);

        var thrown = await Assert.ThrowsAsync<ServiceRestartException>(() => quiescer.RunQuiescedAsync(["a", "b", "c"], NoHook, NoHook, () => Task.FromResult(true)));

        Assert.Equal(ExitCode.ServiceRestartFailed, thrown.ExitCode);
        Assert.Equal(7, (int)thrown.ExitCode);
        Assert.Contains("b", thrown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("a,", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(["stop a", "stop b", "stop c", "start c", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "c"], systemctl.Running);
    }

    [Fact]
    public async Task A_failed_restart_after_a_failed_snapshot_still_reports_exit_7_and_keeps_the_snapshot_failure_as_inner()
    {
        using var systemctl = new FakeSystemctl("a");
        systemctl.FailStart("a");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);

        var thrown = await Assert.ThrowsAsync<ServiceRestartException>(() => quiescer.RunQuiescedAsync<bool>(["a"], NoHook, NoHook,
            () => throw new InvalidOperationException("snapshot broke")));

        Assert.IsType<InvalidOperationException>(thrown.InnerException);
        Assert.Equal(["stop a", "start a"], systemctl.StopsAndStarts);
    }

    [Fact]
    public async Task Cancellation_inside_the_window_still_restarts_every_stopped_service()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quiescer.RunQuiescedAsync(["a", "b"], NoHook, NoHook, async () =>
        {
            await cts.CancelAsync();
            cts.Token.ThrowIfCancellationRequested();
            return true;
        }, cts.Token));

        // The restarts ran although the run's token was cancelled (they use CancellationToken.None).
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }

    [Fact]
    public async Task Cancellation_before_the_snapshot_never_takes_it_and_restarts_what_was_stopped()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        using var cts = new CancellationTokenSource();
        var snapshotCalled = false;

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quiescer.RunQuiescedAsync(["a", "b"], NoHook, NoHook, () =>
        {
            snapshotCalled = true;
            return Task.FromResult(true);
        }, cts.Token));

        Assert.False(snapshotCalled);
        Assert.Empty(systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }

    [Fact]
    public async Task Pre_and_post_hooks_run_around_the_stop_window_in_order()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);

        await quiescer.RunQuiescedAsync(["a", "b"], systemctl.WriteHook("pre"), systemctl.WriteHook("post"), () =>
        {
            systemctl.Mark("snapshot");
            return Task.FromResult(true);
        });

        Assert.Equal(
            ["hook pre --flag", "systemctl stop -- a", "systemctl stop -- b", "snapshot", "systemctl start -- b", "systemctl start -- a", "hook post --flag"],
            systemctl.Log.Where(l => !l.Contains("is-active", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_failing_pre_hook_aborts_before_any_service_is_stopped_and_the_post_hook_still_runs()
    {
        using var systemctl = new FakeSystemctl("a");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        var snapshotCalled = false;

        await Assert.ThrowsAsync<ToolFailedException>(() => quiescer.RunQuiescedAsync(["a"], ["/bin/false"], systemctl.WriteHook("post"), () =>
        {
            snapshotCalled = true;
            return Task.FromResult(true);
        }));

        Assert.False(snapshotCalled);
        Assert.Empty(systemctl.StopsAndStarts);
        Assert.Equal(["hook post --flag"], systemctl.Log.Where(l => !l.Contains("is-active", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task When_systemctl_cannot_reach_systemd_the_plan_fails_with_exit_9_and_nothing_is_stopped_or_snapshotted()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        systemctl.BreakBus();
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        var snapshotCalled = false;

        var thrown = await Assert.ThrowsAsync<PrerequisiteException>(() => quiescer.RunQuiescedAsync(["a", "b"], NoHook, NoHook, () =>
        {
            snapshotCalled = true;
            return Task.FromResult(true);
        }));

        Assert.Equal(ExitCode.Prerequisite, thrown.ExitCode);
        Assert.Equal(
            "systemctl cannot tell whether a is running (systemctl is-active exited 1 and said 'Failed to connect to bus: No such file or directory'); "
            + "quiescing cannot be trusted, so nothing was stopped, snapshotted or recorded; fix systemctl (is systemd reachable?) and run again",
            thrown.Message);
        Assert.False(snapshotCalled);
        Assert.Empty(systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }

    [Fact]
    public async Task Inactive_failed_and_unknown_units_are_left_alone_and_every_other_state_word_is_stopped()
    {
        using var systemctl = new FakeSystemctl("a");
        systemctl.Unknown("typo");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);

        var plan = await quiescer.PlanAsync(["a", "b", "typo"]);

        Assert.Equal(["a"], plan.ToStop);
        Assert.Equal("a (active: stopped), b (inactive: left alone), typo (unknown: left alone)", plan.Render());
    }

    [Fact]
    public async Task A_stop_that_cannot_reach_systemd_aborts_before_the_snapshot_and_restarts_the_units_already_stopped()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        var plan = await quiescer.PlanAsync(["a", "b"]);
        File.WriteAllText(Path.Combine(systemctl.StateDirPath, "fail-stop", "b"), "");
        var snapshotCalled = false;

        var thrown = await Assert.ThrowsAsync<ToolFailedException>(() => quiescer.RunQuiescedAsync(plan, NoHook, NoHook, () =>
        {
            snapshotCalled = true;
            return Task.FromResult(true);
        }));

        Assert.Contains("'systemctl stop -- b' exited with 1", thrown.Message, StringComparison.Ordinal);
        Assert.False(snapshotCalled);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }

    [Fact]
    public async Task A_unit_still_running_after_its_stop_blocks_the_snapshot_and_every_stopped_unit_is_restarted()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        systemctl.ComesBack("b");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None);
        var snapshotCalled = false;

        var thrown = await Assert.ThrowsAsync<PrerequisiteException>(() => quiescer.RunQuiescedAsync(["a", "b"], NoHook, NoHook, () =>
        {
            snapshotCalled = true;
            return Task.FromResult(true);
        }));

        Assert.StartsWith("service b is running (active) in the quiesce window although it should be stopped; no snapshot was taken", thrown.Message, StringComparison.Ordinal);
        Assert.False(snapshotCalled);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }

    [Fact]
    public async Task A_unit_in_SERVICES_MAY_RUN_that_cannot_be_stopped_is_snapshotted_running_and_restarted()
    {
        using var systemctl = new FakeSystemctl("a", "b", "c");
        systemctl.FailStop("b");
        systemctl.ComesBack("c");
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None) { MayRun = new HashSet<string>(["b", "c"], StringComparer.Ordinal) };

        var result = await quiescer.RunQuiescedAsync(["a", "b", "c"], NoHook, NoHook, () =>
        {
            systemctl.Mark("snapshot");
            return Task.FromResult(7);
        });

        Assert.Equal(7, result);
        Assert.Contains("snapshot", systemctl.Log);
        Assert.Equal(["stop a", "stop b", "stop c", "start c", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b", "c"], systemctl.Running);
    }

    [Fact]
    public async Task A_window_that_reaches_QUIESCE_TIMEOUT_SECONDS_takes_no_snapshot_and_restarts_the_services()
    {
        using var systemctl = new FakeSystemctl("a", "b");
        systemctl.SlowStop("b"); // 3 s, more than the 6 s timeout minus its 5 s margin
        var quiescer = new Quiescer(systemctl.Tools, Serilog.Core.Logger.None) { Timeout = TimeSpan.FromSeconds(6) };
        var snapshots = 0;

        var thrown = await Assert.ThrowsAsync<PrerequisiteException>(() => quiescer.RunQuiescedAsync(["a", "b"], NoHook, NoHook, () => Task.FromResult(++snapshots)));

        Assert.Contains("QUIESCE_TIMEOUT_SECONDS", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0, snapshots);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b"], systemctl.Running);
    }
}

using BtrfsSend.Core.Errors;
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
            ["systemctl is-active --quiet -- a", "systemctl stop -- a", "systemctl is-active --quiet -- b", "systemctl is-active --quiet -- c",
             "systemctl stop -- c", "systemctl is-active --quiet -- d", "systemctl stop -- d", "snapshot"],
            systemctl.Log.Take(8));
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
        // c was never touched; b (possibly half-stopped) and a are started again, b first.
        Assert.Equal(["stop a", "stop b", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.DoesNotContain(systemctl.Log, l => l.EndsWith("-- c", StringComparison.Ordinal));
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
        Assert.Equal(["hook post --flag"], systemctl.Log);
    }
}

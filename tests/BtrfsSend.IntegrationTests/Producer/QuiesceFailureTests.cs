using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// Quiescing is never skipped silently: when systemctl cannot answer, or a unit will not stop, the
/// real producer stops before the snapshot with one line, and nothing is taken or recorded.
/// </summary>
public sealed class QuiesceFailureTests
{
    private const string BusLine = "systemctl cannot tell whether a is running (systemctl is-active exited 1 and said 'Failed to connect to bus: No such file or directory'); "
        + "quiescing cannot be trusted, so nothing was stopped, snapshotted or recorded; fix systemctl (is systemd reachable?) and run again";

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task When_systemctl_cannot_reach_systemd_the_run_and_the_dry_run_exit_9_with_one_line_and_nothing_is_taken()
    {
        await using var world = await WorldWithUnitsAAndBAsync("CANARY_FILE=.btrfs-send-canary");
        world.Systemctl.BreakBus();

        var run = await world.RunProducerAsync();
        var dry = await world.RunProducerAsync("run", "--dry-run");

        Assert.True(run.ExitCode == 9, run.Stderr);
        Assert.Equal([BusLine], run.Stderr.Split('\n').Where(l => l.Contains("[ERR]", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("[ERR] ", StringComparison.Ordinal) + 6)..]));
        Assert.True(dry.ExitCode == 9, dry.Stderr);
        Assert.Contains(BusLine, dry.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("dry run:", dry.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("left alone", run.Stderr, StringComparison.Ordinal);
        AssertNothingTaken(world);
        Assert.False(File.Exists(Path.Combine(world.RootfsPath, ".btrfs-send-canary")));
        Assert.Empty(world.StopsAndStarts());
        Assert.Equal(["a", "b"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task When_a_stop_cannot_reach_systemd_the_stopped_units_are_restarted_and_nothing_is_snapshotted()
    {
        await using var world = await WorldWithUnitsAAndBAsync("");
        world.Systemctl.FailStop("b");

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 11, run.Stderr);
        Assert.Contains("'systemctl stop -- b' exited with 1: Job for b failed (fake)", run.Stderr, StringComparison.Ordinal);
        AssertNothingTaken(world);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], world.StopsAndStarts());
        Assert.Equal(["a", "b"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task When_only_systemctl_stop_cannot_reach_systemd_the_run_restarts_what_it_stopped_and_snapshots_nothing()
    {
        await using var world = await WorldWithUnitsAAndBAsync("");
        world.Systemctl.BreakBus("stop");

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode != 0, run.Stderr);
        Assert.Contains("'systemctl stop -- a' exited with 1: Failed to connect to bus", run.Stderr, StringComparison.Ordinal);
        AssertNothingTaken(world);
        Assert.Equal(["a", "b"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_unit_still_running_after_a_successful_stop_stops_the_run_with_exit_9_and_nothing_is_taken()
    {
        await using var world = await WorldWithUnitsAAndBAsync("");
        world.Systemctl.ComesBack("b");

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 9, run.Stderr);
        Assert.Contains("service b is running (active) in the quiesce window although it should be stopped; no snapshot was taken", run.Stderr, StringComparison.Ordinal);
        AssertNothingTaken(world);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], world.StopsAndStarts());
        Assert.Equal(["a", "b"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_unit_listed_in_SERVICES_MAY_RUN_that_will_not_stop_is_backed_up_running_with_a_warning()
    {
        await using var world = await WorldWithUnitsAAndBAsync("SERVICES_MAY_RUN=(b)");
        world.Systemctl.FailStop("b");

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("[WRN] could not stop b", run.Stderr, StringComparison.Ordinal);
        Assert.Single(world.LocalSnapshotNames());
        Assert.NotNull(world.State());
        Assert.Equal(["a", "b"], world.RunningServices());
    }

    /// <summary>A world whose producer quiesces units a and b, both running under the fake systemctl; <paramref name="extraConfig"/> adds keys.</summary>
    private static async Task<BackupWorld> WorldWithUnitsAAndBAsync(string extraConfig)
    {
        var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b)\n" + extraConfig);
        world.InstallFakeSystemctl("a", "b");
        return world;
    }

    /// <summary>No local snapshot, nothing in the store, no state file.</summary>
    private static void AssertNothingTaken(BackupWorld world)
    {
        Assert.Empty(world.LocalSnapshotNames());
        Assert.Empty(world.StoreFiles());
        Assert.Null(world.State());
    }
}

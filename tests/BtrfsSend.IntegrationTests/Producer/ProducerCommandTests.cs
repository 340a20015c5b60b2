using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>The verbs that must not change anything: <c>--dry-run</c> and <c>status</c>.</summary>
public sealed class ProducerCommandTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Dry_run_prints_the_decision_and_commands_and_stops_snapshots_sends_and_records_nothing()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a)");
        world.InstallFakeSystemctl("a");
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (state, snapshots, store, quiesce) = (world.State(), world.LocalSnapshotNames(), world.StoreFiles(), world.StopsAndStarts());

        var dry = await world.RunProducerAsync("run", "--dry-run");

        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.True(dry.Stdout.Contains("dry run: nothing is stopped", StringComparison.Ordinal), dry.Stdout);
        Assert.True(dry.Stdout.Contains($"decision:  incremental against {state!.Trim()}", StringComparison.Ordinal), dry.Stdout);
        Assert.True(dry.Stdout.Contains($"btrfs send -q -p {world.SnapshotDirPath}/{state.Trim()} {world.SnapshotDirPath}/prod-srv-rootfs-", StringComparison.Ordinal), dry.Stdout);
        Assert.True(dry.Stdout.Contains("receive-stream prod-srv/rootfs prod-srv-rootfs-", StringComparison.Ordinal), dry.Stdout);
        Assert.True(dry.Stdout.Contains("services:  a (active: stopped)", StringComparison.Ordinal), dry.Stdout);
        Assert.Equal(state, world.State());
        Assert.Equal(snapshots, world.LocalSnapshotNames());
        Assert.Equal(store, world.StoreFiles());
        Assert.Equal(quiesce, world.StopsAndStarts());
        Assert.Equal(["a"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Status_prints_the_last_success_the_next_run_the_next_full_and_the_receivers_list()
    {
        await using var world = await BackupWorld.CreateAsync();
        Assert.Equal(0, (await world.RunProducerAsync()).ExitCode);
        Assert.Equal(0, (await world.RunProducerAsync()).ExitCode);
        var streams = world.StoredStreams().Select(s => Path.GetFileName(s).Split('.')[0]).ToList();
        var state = world.State()!.Trim();

        var status = await world.RunProducerAsync("status");

        Assert.True(status.ExitCode == 0, status.Stderr);
        var lines = status.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith($"last success:   {state} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l == $"next run:       incremental against {state} (chain's full {streams[0]} is 0 days old)");
        Assert.Contains(lines, l => l.StartsWith("next full due:  ", StringComparison.Ordinal) && l.EndsWith("(FULL_INTERVAL_DAYS=32)", StringComparison.Ordinal));
        Assert.Contains("receiver has 2 stream(s):", status.Stdout, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith($"  {streams[0]} full - ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith($"  {streams[1]} incremental {streams[0]} ", StringComparison.Ordinal));
        Assert.Equal(state + "\n", world.State());
    }
}

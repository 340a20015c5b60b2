using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.TestSupport;
using Serilog.Core;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>Full or incremental, end to end: real btrfs, the real receiver behind real sshd and sudo.</summary>
public sealed class ProducerDecisionTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_run_after_FULL_INTERVAL_DAYS_sends_a_full_again_by_the_injected_clock()
    {
        await using var world = await BackupWorld.CreateAsync(receiverConfig: "MAX_CLOCK_SKEW=100d\n");
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);

        var later = new ManualClock(DateTimeOffset.UtcNow.AddDays(40));
        var options = ProducerConfig.Load(world.ConfigFilePath, Logger.None);
        var tools = new ToolRunner();
        var code = await new BackupRun(options, tools, ProducerConfig.Receiver(options, tools), Logger.None, later).RunAsync(dryRun: false);

        Assert.Equal(0, code);
        var expected = SnapshotName.Create("prod-srv-rootfs", later.GetUtcNow()).Value;
        var streams = world.StoredStreams().Select(Path.GetFileName).ToList();
        Assert.Equal(2, streams.Count);
        Assert.EndsWith(".full.btrfs.gpg", streams[0], StringComparison.Ordinal);
        Assert.Equal($"{expected}.full.btrfs.gpg", streams[1]);
        Assert.Equal(expected + "\n", world.State());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_missing_state_file_makes_the_next_run_a_full_with_the_reason_logged()
    {
        await using var world = await BackupWorld.CreateAsync();
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        File.Delete(world.StateFilePath);

        var second = await world.RunProducerAsync();

        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("full: no previous snapshot was acknowledged", second.Stderr, StringComparison.Ordinal);
        var streams = world.StoredStreams();
        Assert.Equal(2, streams.Count);
        Assert.All(streams, s => Assert.EndsWith(".full.btrfs.gpg", s, StringComparison.Ordinal));
        Assert.Equal(world.LocalSnapshotNames()[^1] + "\n", world.State());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_state_file_naming_a_deleted_local_snapshot_makes_the_next_run_a_full()
    {
        await using var world = await BackupWorld.CreateAsync();
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var recorded = world.State()!.Trim();
        await Run.OutAsync("btrfs", "subvolume", "delete", Path.Combine(world.SnapshotDirPath, recorded));

        var second = await world.RunProducerAsync();

        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains($"full: the last acknowledged snapshot {recorded} no longer exists locally", second.Stderr, StringComparison.Ordinal);
        var streams = world.StoredStreams();
        Assert.Equal(2, streams.Count);
        Assert.EndsWith(".full.btrfs.gpg", streams[1], StringComparison.Ordinal);
        Assert.NotEqual(recorded + "\n", world.State());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task With_LOCAL_KEEP_DAILY_1_each_run_keeps_the_state_snapshot_deletes_older_ones_and_the_chain_stays_incremental()
    {
        await using var world = await BackupWorld.CreateAsync("LOCAL_KEEP_DAILY=1");
        var kinds = new List<string>();
        for (var run = 0; run < 3; run++)
        {
            await File.WriteAllTextAsync(Path.Combine(world.RootfsPath, "etc/hostname"), $"run {run}\n");
            var result = await world.RunProducerAsync();
            Assert.True(result.ExitCode == 0, result.Stderr);

            // Only the snapshot the state file names survives: it is the next incremental's parent.
            Assert.Equal([world.State()!.Trim()], world.LocalSnapshotNames());
            kinds.Add(Path.GetFileName(world.StoredStreams()[^1]).Split('.')[^3]);
        }

        Assert.Equal(["full", "incr", "incr"], kinds);
    }
}

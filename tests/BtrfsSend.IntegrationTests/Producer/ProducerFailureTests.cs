using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Storage;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.TestSupport;
using Serilog.Core;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// Every failure leaves the world as it was: state file unchanged, nothing committed on the
/// receiver, no new local snapshot, every stopped service running again.
/// </summary>
public sealed class ProducerFailureTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task An_unreachable_receiver_exits_6_with_a_clear_message_and_changes_nothing()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b)");
        world.InstallFakeSystemctl("a", "b");
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (state, snapshots, store) = (world.State(), world.LocalSnapshotNames(), world.StoreFiles());
        await world.WriteConfigAsync("SERVICES_TO_QUIESCE=(a b)\nBACKUP_SSH_PORT=1");

        var second = await world.RunProducerAsync();

        Assert.Equal(6, second.ExitCode);
        Assert.True(second.Stderr.Contains("cannot reach the receiver", StringComparison.Ordinal), second.Stderr);
        Assert.Equal(state, world.State());
        Assert.Equal(snapshots, world.LocalSnapshotNames());
        Assert.Equal(store, world.StoreFiles());
        Assert.Equal(["a", "b"], world.RunningServices());
        Assert.Equal(["stop a", "stop b", "start b", "start a"], world.StopsAndStarts());
    }

    [RealTheory("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    [InlineData("kill", 6, "exited with")]
    [InlineData("truncate", 8, "btrfs send produced a bad stream")]
    [InlineData("flip", 8, "btrfs send produced a bad stream")]
    public async Task A_damaged_btrfs_send_commits_nothing_leaves_the_state_and_deletes_the_new_snapshot(string damage, int exitCode, string messagePart)
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a)");
        world.InstallFakeSystemctl("a");
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (state, snapshots, store) = (world.State(), world.LocalSnapshotNames(), world.StoreFiles());
        BtrfsLoopFixture.WriteFile(Path.Combine(world.RootfsPath, "var/changed.bin"), new byte[300_000]);
        world.InstallDamagingBtrfs(damage);

        var second = await world.RunProducerAsync();

        Assert.True(second.ExitCode == exitCode, second.Stderr);
        Assert.True(second.Stderr.Contains("no trailer was sent", StringComparison.Ordinal), second.Stderr);
        Assert.True(second.Stderr.Contains(messagePart, StringComparison.Ordinal), second.Stderr);
        Assert.Equal(state, world.State());
        Assert.Equal(store, world.StoreFiles());
        Assert.Equal(snapshots, world.LocalSnapshotNames());
        Assert.Equal(["a"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_held_lock_exits_4_with_a_message_naming_the_lock_file_and_touches_nothing()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a)");
        world.InstallFakeSystemctl("a");
        Directory.CreateDirectory(Path.GetDirectoryName(world.StateFilePath)!);
        using var held = DirectoryLock.TryAcquire(world.StateFilePath + ".lock");
        Assert.NotNull(held);

        var run = await world.RunProducerAsync();

        Assert.Equal(4, run.ExitCode);
        Assert.True(run.Stderr.Contains($"busy: another process holds {world.StateFilePath}.lock", StringComparison.Ordinal), run.Stderr);
        Assert.Empty(world.LocalSnapshotNames());
        Assert.Null(world.State());
        Assert.Empty(world.StoreFiles());
        Assert.Empty(world.StopsAndStarts());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_set_the_receiver_does_not_allow_this_client_exits_5_and_touches_nothing()
    {
        await using var world = await BackupWorld.CreateAsync(receiverConfig: "CLIENT_someone_else=(other/)\n");

        var run = await world.RunProducerAsync();

        Assert.Equal(5, run.ExitCode);
        Assert.True(run.Stderr.Contains("the receiver refused 'list prod-srv/rootfs'", StringComparison.Ordinal), run.Stderr);
        Assert.Empty(world.LocalSnapshotNames());
        Assert.Null(world.State());
        Assert.Empty(world.StoredStreams());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_snapshot_name_the_receiver_already_stores_is_refused_with_exit_5_and_the_stored_stream_is_untouched()
    {
        await using var world = await BackupWorld.CreateAsync();
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var recorded = world.State()!.Trim();
        var stored = world.StoredStreams().Single();
        var storedBytes = await File.ReadAllBytesAsync(stored);
        // Same second as the first run, and its local snapshot gone: the run takes a full of the same name.
        await Run.OutAsync("btrfs", "subvolume", "delete", Path.Combine(world.SnapshotDirPath, recorded));
        var sameSecond = new ManualClock(new DateTimeOffset(Core.Naming.SnapshotName.Parse(recorded).TimestampUtc, TimeSpan.Zero));
        var options = ProducerConfig.Load(world.ConfigFilePath, Logger.None);
        var tools = new ToolRunner();

        var log = new LogLines();

        var thrown = await Assert.ThrowsAsync<RefusedException>(() =>
            new BackupRun(options, tools, ProducerConfig.Receiver(options, tools), log.Logger, sameSecond).RunAsync(dryRun: false));

        Assert.Equal(ExitCode.Refused, thrown.ExitCode);
        Assert.Contains("already stored", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(recorded + "\n", world.State());
        Assert.Equal(storedBytes, await File.ReadAllBytesAsync(stored));
        Assert.True(world.LocalSnapshotNames().Count == 0, log.Text);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_service_that_cannot_be_restarted_exits_7_after_restarting_the_others_and_records_nothing()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b)");
        world.InstallFakeSystemctl("a", "b");
        File.WriteAllText(Path.Combine(world.SystemctlDirPath, "fail-start", "b"), "");

        var run = await world.RunProducerAsync();

        Assert.Equal(7, run.ExitCode);
        Assert.True(run.Stderr.Contains("COULD NOT BE RESTARTED", StringComparison.Ordinal), run.Stderr);
        Assert.Equal(["stop a", "stop b", "start b", "start a"], world.StopsAndStarts());
        Assert.Equal(["a"], world.RunningServices());
        Assert.Null(world.State());
        Assert.Empty(world.LocalSnapshotNames());
    }
}

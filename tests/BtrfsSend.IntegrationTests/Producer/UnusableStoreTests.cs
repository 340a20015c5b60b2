using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// A backup server whose disk is not mounted is found before the quiesce window: through the
/// real sshd forced command, hello answers store-unusable and the producer exits 9 having
/// stopped nothing, written no canary and taken no snapshot.
/// </summary>
public sealed class UnusableStoreTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_missing_BACKUP_ROOT_stops_the_run_before_any_service_is_touched_with_exit_9()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b)\nCANARY_FILE=.btrfs-send-canary");
        world.InstallFakeSystemctl("a", "b");
        Directory.Delete(world.StoreDirPath); // the backup disk is not mounted

        var run = await world.RunProducerAsync();
        var dry = await world.RunProducerAsync("run", "--dry-run");

        Assert.True(run.ExitCode == 9, run.Stderr);
        Assert.Contains(
            "[ERR] the receiver cannot store backups: BACKUP_ROOT does not exist (is the backup disk mounted?); nothing can be stored or listed; nothing was stopped, snapshotted or sent",
            run.Stderr, StringComparison.Ordinal);
        Assert.True(dry.ExitCode == 9, dry.Stderr);
        Assert.Empty(world.Systemctl.Log);
        Assert.Equal(["a", "b"], world.RunningServices());
        Assert.Empty(world.LocalSnapshotNames());
        Assert.False(File.Exists(Path.Combine(world.RootfsPath, ".btrfs-send-canary")));
        Assert.Null(world.State());
        Assert.False(Directory.Exists(world.StoreDirPath));
    }
}

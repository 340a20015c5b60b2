using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.RemoteBtrfs;

/// <summary>CANARY_FILE in BACKUP_MODE=remote-btrfs: written before the snapshot, received inside it.</summary>
public sealed class RemoteBtrfsCanaryTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task The_canary_is_written_before_the_snapshot_and_arrives_inside_the_received_subvolume()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync("CANARY_FILE=.btrfs-send-canary");

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 0, run.Stderr);
        var snapshot = world.State()!;
        var received = await world.ReadReceivedFileAsync(snapshot, ".btrfs-send-canary");
        Assert.Matches($"^btrfs-send-backup canary\nsnapshot={snapshot}\ntoken=[0-9a-f]{{32}}\n$", received);
        Assert.Equal(received, await File.ReadAllTextAsync(Path.Combine(world.SnapshotDirPath, snapshot, ".btrfs-send-canary")));
        Assert.True((await world.ShowReceivedAsync(snapshot)).IsCompleteReceive);
    }
}

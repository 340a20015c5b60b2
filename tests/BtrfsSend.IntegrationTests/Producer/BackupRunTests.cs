using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Producer;

public sealed class BackupRunTests
{
    private static readonly string[] Tools = ["mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg"];

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Three_runs_store_a_full_and_two_incrementals_that_stock_gpg_and_btrfs_receive_restore_exactly()
    {
        _ = Tools;
        await using var world = await BackupWorld.CreateAsync();

        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        await File.WriteAllTextAsync(Path.Combine(world.RootfsPath, "etc/hostname"), "changed once\n");
        var second = await world.RunProducerAsync();
        Assert.True(second.ExitCode == 0, second.Stderr);
        File.Delete(Path.Combine(world.RootfsPath, "dir with spaces/file $x;'q'.txt"));
        await File.WriteAllBytesAsync(Path.Combine(world.RootfsPath, "var/new.bin"), new byte[123457]);
        var third = await world.RunProducerAsync();
        Assert.True(third.ExitCode == 0, third.Stderr);

        var streams = world.StoredStreams();
        Assert.Equal(3, streams.Count);
        Assert.EndsWith(".full.btrfs.gpg", streams[0], StringComparison.Ordinal);
        Assert.EndsWith(".incr.btrfs.gpg", streams[1], StringComparison.Ordinal);
        Assert.EndsWith(".incr.btrfs.gpg", streams[2], StringComparison.Ordinal);
        var state = (await File.ReadAllTextAsync(world.StateFilePath)).Trim();
        Assert.Equal(Path.GetFileName(streams[2]).Replace(".incr.btrfs.gpg", "", StringComparison.Ordinal), state);
        Assert.Contains("incremental", third.Stderr, StringComparison.Ordinal);

        // Restore by hand, exactly as the README says: gpg --decrypt | btrfs receive, in order.
        await using var restore = await BtrfsLoopFixture.CreateAsync("restore", 512L * 1024 * 1024);
        foreach (var stream in streams)
        {
            await (Cli.Wrap("gpg").WithArguments(world.Gpg.GpgWithPassphrase("--decrypt", stream).Skip(1))
                | Cli.Wrap("btrfs").WithArguments(["receive", "-q", restore.MountDirPath])).ExecuteAsync();
        }

        foreach (var stream in streams)
        {
            var name = StoredFileName.TryParse(Path.GetFileName(stream))!.Snapshot.Value;
            var source = Path.Combine(world.SnapshotDirPath, name);
            var received = restore.PathOf(name);
            await TreeDump.AssertSameAsync(source, received, [.. TreeAllowance.BtrfsSendLimits]);
            Assert.Equal((await BtrfsLoopFixture.ShowAsync(source)).Uuid, (await BtrfsLoopFixture.ShowAsync(received)).ReceivedUuid);
        }

        var manifest = await File.ReadAllTextAsync(Path.Combine(world.SetDirPath, state + ".manifest"));
        Assert.Contains("encryption=openpgp-symmetric", manifest, StringComparison.Ordinal);
        Assert.Contains($"snapshot_uuid={(await BtrfsLoopFixture.ShowAsync(Path.Combine(world.SnapshotDirPath, state))).Uuid}", manifest, StringComparison.Ordinal);
    }
}

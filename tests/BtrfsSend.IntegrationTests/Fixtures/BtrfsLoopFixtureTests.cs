using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Fixtures;

public sealed class BtrfsLoopFixtureTests
{
    [RealFact("mkfs.btrfs", "btrfs", "losetup")]
    public async Task A_snapshot_sent_and_received_through_real_btrfs_is_identical_to_its_source()
    {
        await using var prod = await BtrfsLoopFixture.CreateAsync("prod");
        await using var backup = await BtrfsLoopFixture.CreateAsync("backup");
        var rootfs = await prod.CreateSubvolumeAsync("@rootfs");
        BtrfsLoopFixture.PopulateSample(rootfs);
        var snap1 = await prod.SnapshotReadOnlyAsync(rootfs, ".snapshots/@rootfs.1");
        await File.AppendAllTextAsync(Path.Combine(rootfs, "etc/hostname"), "changed\n");
        File.Delete(Path.Combine(rootfs, "dir with spaces/file $x;'q'.txt"));
        var snap2 = await prod.SnapshotReadOnlyAsync(rootfs, ".snapshots/@rootfs.2");
        var restore = backup.PathOf("restore");
        Directory.CreateDirectory(restore);

        await (Cli.Wrap("btrfs").WithArguments(["send", "-q", snap1]) | Cli.Wrap("btrfs").WithArguments(["receive", "-q", restore])).ExecuteAsync();
        await (Cli.Wrap("btrfs").WithArguments(["send", "-q", "-p", snap1, snap2]) | Cli.Wrap("btrfs").WithArguments(["receive", "-q", restore])).ExecuteAsync();

        foreach (var (source, name) in new[] { (snap1, "@rootfs.1"), (snap2, "@rootfs.2") })
        {
            var received = Path.Combine(restore, name);
            await TreeDump.AssertSameAsync(source, received, [.. TreeAllowance.BtrfsSendLimits]);
            var sourceFacts = await BtrfsLoopFixture.ShowAsync(source);
            var receivedFacts = await BtrfsLoopFixture.ShowAsync(received);
            Assert.True(receivedFacts.IsCompleteReceive);
            Assert.Equal(sourceFacts.Uuid, receivedFacts.ReceivedUuid);
        }

        Assert.Contains(".snapshots/@rootfs.2", await prod.ListSubvolumesAsync());
        Assert.DoesNotContain(TreeDump.Escape("dir with spaces/file $x;'q'.txt"), await TreeDump.DumpAsync(Path.Combine(restore, "@rootfs.2")), StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "losetup")]
    public async Task Dispose_unmounts_and_removes_everything_even_when_a_file_is_held_open()
    {
        var fixture = await BtrfsLoopFixture.CreateAsync("dispose");
        var held = File.Open(fixture.PathOf("held"), FileMode.Create);
        try
        {
            Assert.True(MountTable.IsMountPoint(fixture.MountDirPath));
            await fixture.DisposeAsync();
            Assert.False(MountTable.IsMountPoint(fixture.MountDirPath));
        }
        finally
        {
            await held.DisposeAsync();
        }

        // The lazy unmount is complete once nothing holds the filesystem; our image's loop device is released.
        for (var i = 0; i < 50 && (await Run.OutAsync("losetup", "-n", "-O", "NAME", "-j", fixture.ImageFilePath)).Length > 0; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal("", (await Run.TryAsync("losetup", "-n", "-O", "NAME", "-j", fixture.ImageFilePath)).StandardOutput.Trim());
    }
}

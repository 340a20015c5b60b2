using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The backup disk goes away under a running upload. For the case the receiver's BACKUP_ROOT is
/// a mount point of its own (a bind mount of the world's store on an empty directory); halfway
/// through the transfer it is either lazily unmounted (<c>umount -l</c>: the path now shows the
/// empty directory underneath) or replaced by a read-only view of the same files (what a
/// filesystem remounted read-only after an I/O error looks like to the receiver).
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class BackupRootFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "mount", "umount")]
    public async Task BACKUP_ROOT_unmounted_lazily_mid_transfer_fails_the_run_stores_nothing_on_the_bare_mount_point_and_the_next_run_succeeds()
    {
        var world = await fixture.WorldAsync();
        var mountPoint = await SwapMidTransferAsync(world, "unmounted", "Could not find a part of the path", mountPoint => Run.OutAsync("umount", "-l", mountPoint));
        Assert.Empty(Directory.GetFileSystemEntries(mountPoint));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "mount", "umount")]
    public async Task BACKUP_ROOT_turning_read_only_mid_transfer_fails_the_run_commits_nothing_and_the_next_run_removes_the_temp_file_and_succeeds()
    {
        var world = await fixture.WorldAsync();
        await SwapMidTransferAsync(world, "read-only", "Read-only file system", async mountPoint =>
        {
            await Run.OutAsync("umount", "-l", mountPoint);
            await Run.OutAsync("mount", "--bind", "-o", "ro", world.World.StoreDirPath, mountPoint);
        });
    }

    private static async Task<string> SwapMidTransferAsync(FaultWorld world, string name, string why, Func<string, Task> swap)
    {
        var mountPoint = world.World.Dir.Sub("backup-disk-" + name);
        Directory.CreateDirectory(mountPoint);
        var config = await File.ReadAllTextAsync(world.World.ReceiverConfigFilePath);
        var before = world.Capture();
        await Run.OutAsync("mount", "--bind", world.World.StoreDirPath, mountPoint);
        try
        {
            await File.WriteAllTextAsync(world.World.ReceiverConfigFilePath, config.Replace("BACKUP_ROOT=" + world.World.StoreDirPath, "BACKUP_ROOT=" + mountPoint, StringComparison.Ordinal));
            world.ChangeSource();
            var stderr = new StringBuilder();
            var running = await world.StartRunHeldMidTransferAsync(stderr);
            try
            {
                await swap(mountPoint);
            }
            finally
            {
                world.World.ReleasePause();
            }

            var result = await running;
            await world.WaitForReceiversToExitAsync();

            Assert.True(result.ExitCode is not 0, $"the run whose BACKUP_ROOT was {name} mid-transfer exited 0: {stderr}");
            // One line from the receiver, passed on by the producer: what failed and that nothing was stored.
            var line = stderr.ToString().Split('\n').SingleOrDefault(l => l.Contains("the receiver did not store receive-stream: io-error:", StringComparison.Ordinal));
            Assert.True(line is not null && line.Contains(why, StringComparison.Ordinal) && line.EndsWith("nothing was stored", StringComparison.Ordinal), $"the producer does not pass on the receiver's io-error ({why}; nothing was stored): {stderr}");
            var now = world.Capture();
            Assert.Equal(before.StateFiles, now.StateFiles);
            Assert.Equal(before.LocalSnapshots, now.LocalSnapshots);
            Assert.Equal(before.Manifests, now.Manifests);
            Assert.DoesNotContain(now.StoreFiles.Keys.Except(before.StoreFiles.Keys), f => !Path.GetFileName(f).StartsWith(".tmp-", StringComparison.Ordinal));
        }
        finally
        {
            await Run.TryAsync("umount", "-l", mountPoint);
            await File.WriteAllTextAsync(world.World.ReceiverConfigFilePath, config);
        }

        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, $"the run after BACKUP_ROOT was {name} failed: " + next.Stderr);
        Assert.Empty(world.TempFiles());
        Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        await world.AssertNoDataLostAsync(before);
        return mountPoint;
    }
}

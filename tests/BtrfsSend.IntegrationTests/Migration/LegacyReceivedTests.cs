using System.Globalization;
using BtrfsSend.IntegrationTests.RemoteBtrfs;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Migration;

/// <summary>
/// remote-btrfs after the shell scripts: the subvolumes <c>backup-receive-btrfs-stream.sh</c>
/// received under <c>RECEIVED_ROOT/&lt;set&gt;/&lt;snapshot&gt;</c> need no adoption. They are
/// complete when read-only with a received UUID (which is exactly what <c>btrfs receive</c> leaves
/// after a stream's END), so they are listed, used as the parent and pruned like our own.
/// </summary>
public sealed class LegacyReceivedTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Subvolumes_the_scripts_received_are_listed_used_as_the_parent_and_pruned()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync();
        var rootfs = world.Prod.PathOf("@rootfs");
        var names = new string[2];
        await Run.OutAsync("mount", "-o", "loop", world.Volume.ImageFilePath, world.Volume.MountDirPath);
        try
        {
            Directory.CreateDirectory(world.SetDirPath);
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = $"prod-srv-rootfs-{DateTime.UtcNow.Date.AddDays(i - 2).AddHours(2).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
                await File.WriteAllTextAsync(Path.Combine(rootfs, "run.txt"), $"scripts {i}");
                var snapshot = await world.Prod.SnapshotReadOnlyAsync(rootfs, Path.Combine("@backup-snapshots", names[i]));
                string[] send = i == 0 ? ["send", "-q", snapshot] : ["send", "-q", "-p", Path.Combine(world.SnapshotDirPath, names[0]), snapshot];
                await (Cli.Wrap("btrfs").WithArguments(send) | Cli.Wrap("btrfs").WithArguments(["receive", "-q", world.SetDirPath])).ExecuteAsync();
            }
        }
        finally
        {
            await Run.OutAsync("umount", world.Volume.MountDirPath);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(world.StateFilePath)!);
        await File.WriteAllTextAsync(world.StateFilePath, names[1] + "\n");
        Assert.True((await world.ShowReceivedAsync(names[1])).IsCompleteReceive);

        await File.WriteAllTextAsync(Path.Combine(rootfs, "run.txt"), "ours");
        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"incremental against {names[1]}", run.Stderr, StringComparison.Ordinal);
        // KEEP_DAILY=1 on the server: the scripts' subvolumes were pruned like ours; the new one is
        // complete and holds the new state.
        var received = await world.ReceivedNamesAsync();
        Assert.Equal([world.State()!], received);
        Assert.Equal("ours", await world.ReadReceivedFileAsync(received[0], "run.txt"));
    }
}

using BtrfsSend.IntegrationTests.Producer;
using BtrfsSend.TestSupport;
using CliWrap;
using CliWrap.Buffered;

namespace BtrfsSend.IntegrationTests.Fidelity;

/// <summary>
/// The hard sample tree through the whole cycle with send protocol 2 and compressed data: a full
/// and three incrementals from a compress=zstd source, through the real producer, sshd, receiver
/// and gpg; the newest snapshot restored three ways (the tool from the stored directory, the
/// tool over ssh, plain <c>gpg -d | btrfs receive</c>), each compared with the source snapshot
/// by every attribute <see cref="TreeDump"/> reads, minus only the documented btrfs limits.
/// </summary>
public sealed class HardTreeCycleTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "python3", "setfattr", "setfacl", "setcap", "compsize", "fallocate", "mknod", "mkfifo")]
    public async Task The_hard_tree_and_three_incrementals_restore_identically_from_a_directory_over_ssh_and_with_plain_gpg_and_btrfs_receive()
    {
        await using var world = await BackupWorld.CreateAsync("SEND_PROTO=2\nSEND_COMPRESSED_DATA=yes");
        await Run.OutAsync("mount", "-o", "remount,compress=zstd", world.Prod.MountDirPath);
        await Run.OutAsync("bash", "-c", HardTree.Build, "build", world.RootfsPath);

        foreach (var change in new[] { "", HardTree.Change1, HardTree.Change2, HardTree.Change3 })
        {
            if (change.Length > 0)
            {
                await Run.OutAsync("bash", "-c", change, "change", world.RootfsPath);
            }

            var run = await world.RunProducerAsync();
            Assert.True(run.ExitCode == 0, run.Stderr);
        }

        var streams = world.StoredStreams();
        Assert.Equal(4, streams.Count);
        foreach (var manifest in Directory.GetFiles(world.SetDirPath, "*.manifest"))
        {
            Assert.Contains("send_proto=2", await File.ReadAllTextAsync(manifest), StringComparison.Ordinal);
        }

        var latest = (await File.ReadAllTextAsync(world.StateFilePath)).Trim();
        var source = Path.Combine(world.SnapshotDirPath, latest);
        var sourceDump = await TreeDump.DumpAsync(source);
        Assert.Equal(HardTree.LongPathBytes, sourceDump.Split('\n').Max(line => line.Split(' ')[0].Length) - "path=".Length);

        await using var fromDirectory = await BtrfsLoopFixture.CreateAsync("hard-dir", 512L * 1024 * 1024);
        await using var overSsh = await BtrfsLoopFixture.CreateAsync("hard-ssh", 512L * 1024 * 1024);
        await using var plain = await BtrfsLoopFixture.CreateAsync("hard-plain", 512L * 1024 * 1024);

        var restored = await world.Producer(["restore", "--set", "prod-srv/rootfs", "--from", world.SetDirPath, "--latest", "--to", fromDirectory.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath]).ExecuteBufferedAsync();
        Assert.True(restored.ExitCode == 0, restored.StandardError);
        var viaSsh = await world.RunProducerAsync("restore", "--latest", "--to", overSsh.MountDirPath);
        Assert.True(viaSsh.ExitCode == 0, viaSsh.Stderr);
        foreach (var stream in streams)
        {
            // --chroot: without it btrfs receive builds absolute paths, and the tree's ~4,000-byte
            // path below the mount point exceeds PATH_MAX (docs/fidelity.md).
            var receive = await (Cli.Wrap("gpg").WithArguments(world.Gpg.GpgWithPassphrase("--decrypt", stream).Skip(1))
                | Cli.Wrap("btrfs").WithArguments(["receive", "-q", "--chroot", plain.MountDirPath]).WithValidation(CommandResultValidation.None)).ExecuteBufferedAsync();
            Assert.True(receive.ExitCode == 0, receive.StandardError);
        }

        foreach (var target in new[] { fromDirectory, overSsh, plain })
        {
            var copy = target.PathOf(latest);
            Assert.Equal((await BtrfsLoopFixture.ShowAsync(source)).Uuid, (await BtrfsLoopFixture.ShowAsync(copy)).ReceivedUuid);
            await TreeDump.AssertSameAsync(source, copy, Fidelity.Limits);
        }

        // Compressed extents travelled compressed and arrived compressed: the restore filesystems
        // are mounted without compression, so zstd extents there were written as they were sent.
        var compsize = await Run.OutAsync("compsize", fromDirectory.PathOf(Path.Combine(latest, "hard", "text.log")));
        Assert.Contains("zstd", compsize, StringComparison.Ordinal);
    }
}

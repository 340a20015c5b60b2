using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Producer;

public sealed class CompressionTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task With_COMPRESSION_zstd_the_stored_stream_is_smaller_recorded_in_the_manifest_and_restores_with_gpg_zstd_and_btrfs_receive()
    {
        await using var world = await BackupWorld.CreateAsync("COMPRESSION=zstd");
        await File.WriteAllTextAsync(Path.Combine(world.RootfsPath, "var/log/big.log"), string.Concat(Enumerable.Repeat("a very compressible line of text\n", 400_000)));

        // As if an earlier full of this configuration had 12345 bytes of send stream: with zstd the
        // stored sizes are not comparable, so this record is the ETA's estimate.
        Directory.CreateDirectory(Path.GetDirectoryName(world.StateFilePath)!);
        await File.WriteAllTextAsync(world.StateFilePath + ".sizes", "full 12345\n");

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"ETA estimated from the previous full stream: 12345 send-stream bytes (from {world.StateFilePath}.sizes)", run.Stderr, StringComparison.Ordinal);
        var sizes = System.Text.RegularExpressions.Regex.Match(run.Stderr, @", (\d+) bytes \(.*?\) sent as (\d+) encrypted bytes");
        Assert.True(sizes.Success, run.Stderr);
        Assert.True(long.Parse(sizes.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) < long.Parse(sizes.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / 2, sizes.Value);
        Assert.Equal($"full {sizes.Groups[1].Value}\n", await File.ReadAllTextAsync(world.StateFilePath + ".sizes"));
        var stream = Assert.Single(world.StoredStreams());
        var name = StoredFileName.TryParse(Path.GetFileName(stream))!.Snapshot.Value;
        var manifest = await File.ReadAllTextAsync(Path.Combine(world.SetDirPath, name + ".manifest"));
        Assert.Contains("compression=zstd", manifest, StringComparison.Ordinal);
        var plaintext = new MemoryStream();
        await (Cli.Wrap("btrfs").WithArguments(["send", "-q", Path.Combine(world.SnapshotDirPath, name)]) | plaintext).ExecuteAsync();
        Assert.True(new FileInfo(stream).Length < plaintext.Length / 2, $"stored {new FileInfo(stream).Length} bytes for {plaintext.Length} bytes of send stream");

        await using var restore = await BtrfsLoopFixture.CreateAsync("restore", 512L * 1024 * 1024);
        await (Cli.Wrap("gpg").WithArguments(world.Gpg.GpgWithPassphrase("--decrypt", stream).Skip(1))
            | Cli.Wrap("zstd").WithArguments(["-d", "-q", "-c"])
            | Cli.Wrap("btrfs").WithArguments(["receive", "-q", restore.MountDirPath])).ExecuteAsync();
        await TreeDump.AssertSameAsync(Path.Combine(world.SnapshotDirPath, name), restore.PathOf(name), [.. TreeAllowance.BtrfsSendLimits]);
    }
}

using System.Diagnostics;
using System.Globalization;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.Producer.Restore;
using BtrfsSend.TestSupport;
using Serilog.Core;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>Restore and verify read each stored file once, and still never let btrfs receive finish a link that fails a check; BWLIMIT is wired.</summary>
[Collection(RestoreCollection.Name)]
public sealed class SinglePassRestoreTests(RestoreWorldFixture fixture)
{
    private static readonly BackupSet Set = BackupSet.Parse(RestoreWorld.Set);

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Verify_and_restore_from_a_directory_read_each_stored_file_exactly_once()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("r1pass");
        var copy = world.CopySet(dir);
        var stored = Directory.GetFiles(copy, "*.btrfs.gpg").Sum(f => new FileInfo(f).Length);
        var keys = new KeyFiles(world.Gpg.PassphraseFilePath, null, null);

        var verifySource = new DirectorySource(copy, Set, Logger.None);
        var verified = await new ChainVerifier(verifySource, keys, Logger.None).RunAsync(Set, null, all: false, TextWriter.Null);
        await using var target = await BtrfsLoopFixture.CreateAsync("r1target");
        var restoreSource = new DirectorySource(copy, Set, Logger.None);
        var restored = await new ChainRestorer(restoreSource, new TargetDirectory(target.MountDirPath, new ToolRunner()), keys, Logger.None)
            .RunAsync(Set, null, dryRun: false, TextWriter.Null);

        Assert.Equal(0, verified);
        Assert.Equal(0, restored);
        Assert.Equal(stored, verifySource.StoredBytesRead);
        Assert.Equal(stored, restoreSource.StoredBytesRead);
        await world.AssertRestoredAsync(world.Snapshots[3], target.PathOf(world.Snapshots[3]));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_link_whose_SHA_256_differs_from_its_manifest_only_in_the_last_digits_is_never_finished_by_btrfs_receive()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rsha");
        var copy = world.CopySet(dir);
        await RestoreWorld.RewriteManifestAsync(copy, world.Snapshots[2],
            m => m with { StreamSha256 = m.StreamSha256[..^1] + (m.StreamSha256[^1] == '0' ? '1' : '0') });
        await using var target = await BtrfsLoopFixture.CreateAsync("rshatarget");

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);
        var verify = await world.ProducerAsync("verify", "--set", RestoreWorld.Set, "--from", copy, "--passphrase-file", world.Gpg.PassphraseFilePath);

        // The stream itself is intact: only the hash at its end fails, and btrfs receive had
        // already made the subvolume when it did — it never saw END and was deleted.
        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 3/4 {world.Snapshots[2]} (incremental) failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("SHA-256", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains($"deleted what it left behind ({target.PathOf(world.Snapshots[2])})", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0], world.Snapshots[1]], await target.ListSubvolumesAsync());
        Assert.Equal(8, verify.ExitCode);
        Assert.Contains($"FAIL  {world.Snapshots[2]}", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains("SHA-256", verify.Stdout, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_flipped_last_byte_of_the_newest_link_fails_it_and_leaves_nothing_of_it()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rlast");
        var copy = world.CopySet(dir);
        var file = Path.Combine(copy, world.Snapshots[3] + ".incr.btrfs.gpg");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = stream.Length - 1;
            var b = stream.ReadByte();
            stream.Position = stream.Length - 1;
            stream.WriteByte((byte)(b ^ 0x01));
        }

        await using var target = await BtrfsLoopFixture.CreateAsync("rlasttarget");

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 4/4 {world.Snapshots[3]} (incremental) failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("SHA-256", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0], world.Snapshots[1], world.Snapshots[2]], await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Verify_with_bwlimit_reads_no_faster_than_the_limit()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rbw");
        var copy = world.CopySet(dir);
        var stored = Directory.GetFiles(copy, "*.btrfs.gpg").Sum(f => new FileInfo(f).Length);
        var rate = Math.Max(1024, stored / 3);
        var clock = Stopwatch.StartNew();

        var verify = await world.ProducerAsync("verify", "--set", RestoreWorld.Set, "--from", copy, "--passphrase-file", world.Gpg.PassphraseFilePath,
            "--bwlimit", rate.ToString(CultureInfo.InvariantCulture));

        // A lower bound only: three seconds' worth, less one saved-up burst (a twentieth of a second).
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.5), $"{stored} bytes at {rate} B/s took {clock.Elapsed}");
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task The_send_pipeline_with_a_bandwidth_limit_uploads_no_faster_than_the_limit()
    {
        var world = await fixture.WorldAsync();
        var snapshotPath = world.SourceSnapshotPath(world.Snapshots[0]);
        var fullBytes = new FileInfo(Path.Combine(world.SetDirPath, world.Snapshots[0] + ".full.btrfs.gpg")).Length;
        var rate = Math.Max(1024, fullBytes / 3);
        var options = ProducerConfig.Load(world.ConfigFilePath, Logger.None);
        var receiver = ProducerConfig.Receiver(options, new ToolRunner());
        var snapshot = SnapshotName.Create("bwlimit", DateTimeOffset.UtcNow);
        var request = new ReceiveStreamRequest(BackupSet.Parse("bwlimit/send"), snapshot, isIncremental: false, parent: null)
        {
            Declared = new StreamDeclaration { SnapshotUuid = (await BtrfsLoopFixture.ShowAsync(snapshotPath)).Uuid },
        };
        var clock = Stopwatch.StartNew();

        var result = await new SendPipeline(receiver, Logger.None) { BandwidthLimit = rate }
            .RunAsync(["btrfs", "send", "-q", snapshotPath], request, EncryptionKeys.FromPassphraseFile(world.Gpg.PassphraseFilePath));

        Assert.True(result.StoredBytes > fullBytes / 2, $"{result.StoredBytes} stored");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(result.StoredBytes * 0.9 / rate - 0.1), $"{result.StoredBytes} bytes at {rate} B/s took {clock.Elapsed}");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"{result.StoredBytes} bytes at {rate} B/s took {clock.Elapsed}");
    }
}

using BtrfsSend.Core.Manifests;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>Chains stored with COMPRESSION=zstd: restored and verified by the tool through a real <c>zstd -d</c>.</summary>
[Collection(RestoreCollection.Name)]
public sealed class ZstdRestoreTests(RestoreWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task A_zstd_full_plus_incremental_restores_exactly_from_a_directory()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rzstd");
        var copy = world.CopySet(dir, world.ZstdSetDirPath);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.ZstdSet, "--from", copy, "--to", target.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("2 link(s) received", restore.Stdout, StringComparison.Ordinal);
        foreach (var snapshot in world.ZstdSnapshots)
        {
            await world.AssertRestoredAsync(snapshot, target.PathOf(snapshot));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task A_zstd_chain_restores_over_ssh_where_the_receivers_list_line_says_it_is_compressed()
    {
        var world = await fixture.WorldAsync();
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--config", world.ZstdConfigFilePath, "--to", target.MountDirPath);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        foreach (var snapshot in world.ZstdSnapshots)
        {
            await world.AssertRestoredAsync(snapshot, target.PathOf(snapshot));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task Verify_decompresses_and_validates_each_zstd_stream_from_a_directory_and_over_ssh()
    {
        var world = await fixture.WorldAsync();

        var local = await world.ProducerAsync("verify", "--all", "--set", RestoreWorld.ZstdSet, "--from", world.ZstdSetDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath);
        var remote = await world.ProducerAsync("verify", "--all", "--config", world.ZstdConfigFilePath);

        foreach (var verify in new[] { local, remote })
        {
            Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
            var lines = verify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.All(lines.Zip(world.ZstdSnapshots), p => Assert.StartsWith($"OK    {p.Second}", p.First, StringComparison.Ordinal));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task Dry_run_prints_gpg_zstd_btrfs_receive_and_those_commands_restore_the_chain_by_hand()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rzstd");
        var copy = world.CopySet(dir, world.ZstdSetDirPath);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var dry = await world.ProducerAsync("restore", "--set", RestoreWorld.ZstdSet, "--from", copy, "--to", target.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--dry-run");

        Assert.True(dry.ExitCode == 0, dry.Stderr);
        var commands = dry.Stdout.Split('\n')
            .SkipWhile(l => !l.StartsWith("by hand", StringComparison.Ordinal)).Skip(1)
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal(2, commands.Count(c => c.StartsWith("gpg --batch", StringComparison.Ordinal)
            && c.EndsWith($"| zstd -d | btrfs receive --chroot {target.MountDirPath}", StringComparison.Ordinal)));

        var byHand = await Run.TryAsync("env", $"GNUPGHOME={world.Gpg.HomeDirPath}", "bash", "-e", "-c", string.Join('\n', commands));

        Assert.True(byHand.IsSuccess, byHand.StandardErrorTail);
        foreach (var snapshot in world.ZstdSnapshots)
        {
            await world.AssertRestoredAsync(snapshot, target.PathOf(snapshot));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task Restore_test_of_a_zstd_chain_matches_its_canary()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rzstd");
        var copy = world.CopySet(dir, world.ZstdSetDirPath);
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await world.ProducerAsync("verify", "--restore-test", "--set", RestoreWorld.ZstdSet, "--from", copy, "--scratch", scratch.MountDirPath,
            "--passphrase-file", world.Gpg.PassphraseFilePath, "--canary-file", RestoreWorld.CanaryFile);

        Assert.True(drill.ExitCode == 0, drill.Stdout + drill.Stderr);
        Assert.StartsWith($"OK: restore test of {RestoreWorld.ZstdSet}/{world.ZstdSnapshots[1]} (2 links,", drill.Stdout, StringComparison.Ordinal);
        Assert.Empty(await scratch.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task Restore_test_of_a_zstd_chain_over_ssh_matches_its_canary()
    {
        var world = await fixture.WorldAsync();
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await world.ProducerAsync("verify", "--restore-test", "--config", world.ZstdConfigFilePath, "--scratch", scratch.MountDirPath);

        Assert.True(drill.ExitCode == 0, drill.Stdout + drill.Stderr);
        Assert.StartsWith($"OK: restore test of {RestoreWorld.ZstdSet}/{world.ZstdSnapshots[1]} (2 links,", drill.Stdout, StringComparison.Ordinal);
        Assert.Empty(await scratch.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Over_ssh_a_stream_listed_as_zstd_that_is_not_zstd_fails_that_link()
    {
        var world = await fixture.WorldAsync();
        var manifestPath = Path.Combine(world.SetDirPath, world.Snapshots[0] + ".manifest");
        var original = await File.ReadAllBytesAsync(manifestPath);
        var manifest = ManifestReader.Parse(original, manifestPath).Manifest!;
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");
        (int ExitCode, string Stdout, string Stderr) restore;
        try
        {
            // As root, past the 0400 mode: the receiver now lists the uncompressed stream as compression=zstd.
            await File.WriteAllTextAsync(manifestPath, ManifestWriter.Render(manifest with { Compression = StreamCompression.Zstd }));
            restore = await world.ProducerAsync("restore", "--config", world.ConfigFilePath, "--snapshot", world.Snapshots[0], "--to", target.MountDirPath);
        }
        finally
        {
            await File.WriteAllBytesAsync(manifestPath, original);
            File.SetUnixFileMode(manifestPath, UnixFileMode.UserRead);
        }

        Assert.True(restore.ExitCode == 8, restore.Stdout + restore.Stderr);
        Assert.Contains("lists it as compression=zstd, but its binding says none", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }
}

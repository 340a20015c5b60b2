using System.Globalization;
using BtrfsSend.Core.Manifests;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary><c>verify --restore-test</c> and the CANARY_FILE it checks, against the shared <see cref="RestoreWorld"/>.</summary>
[Collection(RestoreCollection.Name)]
public sealed class RestoreTestDrillTests(RestoreWorldFixture fixture)
{
    private static Task<(int ExitCode, string Stdout, string Stderr)> DrillAsync(RestoreWorld world, string set, string from, string scratch, params string[] args)
        => world.ProducerAsync(["verify", "--restore-test", "--set", set, "--from", from, "--scratch", scratch, "--passphrase-file", world.Gpg.PassphraseFilePath, .. args]);

    private static async Task AssertScratchEmptyAsync(BtrfsLoopFixture scratch)
    {
        Assert.Empty(await scratch.ListSubvolumesAsync());
        Assert.Empty(Directory.GetFileSystemEntries(scratch.MountDirPath));
    }

    private static Manifest ManifestOf(string setDirPath, string snapshot)
    {
        var path = Path.Combine(setDirPath, snapshot + ".manifest");
        return ManifestReader.Parse(File.ReadAllBytes(path), path).Manifest!;
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task The_producer_writes_the_canary_before_the_snapshot_with_name_token_and_mode_0600_and_the_manifest_records_the_token()
    {
        var world = await fixture.WorldAsync();

        foreach (var snapshot in world.Snapshots)
        {
            var canary = Path.Combine(world.SourceSnapshotPath(snapshot), RestoreWorld.CanaryFile);
            var token = ManifestOf(world.SetDirPath, snapshot).CanaryToken;

            Assert.NotNull(token);
            Assert.Matches("^[0-9a-f]{32}$", token);
            Assert.Equal($"btrfs-send-backup canary\nsnapshot={snapshot}\ntoken={token}\n", await File.ReadAllTextAsync(canary));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(canary));
        }

        Assert.Equal(world.Snapshots.Count, world.Snapshots.Select(s => ManifestOf(world.SetDirPath, s).CanaryToken).Distinct().Count());
        Assert.Empty(Directory.GetFiles(world.RootfsPath, ".tmp-*"));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Restore_test_of_the_newest_snapshot_is_OK_exit_0_and_leaves_the_scratch_empty()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdrill");
        var copy = world.CopySet(dir);
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await DrillAsync(world, RestoreWorld.Set, copy, scratch.MountDirPath, "--canary-file", RestoreWorld.CanaryFile);

        Assert.True(drill.ExitCode == 0, drill.Stdout + drill.Stderr);
        var line = Assert.Single(drill.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($@"^OK: restore test of {RestoreWorld.Set}/{world.Snapshots[3]} \(4 links, [0-9.]+ [KMG]?i?B\) restored and canary matched in [0-9.]+ s$", line);
        await AssertScratchEmptyAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_manifest_whose_canary_token_differs_from_the_restored_canary_is_CRITICAL_exit_2()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdrill");
        var copy = world.CopySet(dir);
        var manifest = ManifestOf(copy, world.Snapshots[1]);
        var forged = manifest with { CanaryToken = new string(manifest.CanaryToken!.Reverse().ToArray()) };
        await File.WriteAllTextAsync(Path.Combine(copy, world.Snapshots[1] + ".manifest"), ManifestWriter.Render(forged));
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await DrillAsync(world, RestoreWorld.Set, copy, scratch.MountDirPath, "--snapshot", world.Snapshots[1]);

        Assert.Equal(2, drill.ExitCode);
        Assert.StartsWith($"CRITICAL: restore test of {RestoreWorld.Set}/{world.Snapshots[1]} (2 links,", drill.Stdout, StringComparison.Ordinal);
        Assert.Contains("canary token does not match the manifest's canary_token", drill.Stdout, StringComparison.Ordinal);
        await AssertScratchEmptyAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_snapshot_without_a_recorded_canary_is_WARNING_exit_1()
    {
        var world = await fixture.WorldAsync();
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await DrillAsync(world, RestoreWorld.SeedSet, world.SeedStoreDirPath, scratch.MountDirPath, "--allow-unbound");

        Assert.Equal(1, drill.ExitCode);
        Assert.StartsWith($"WARNING: restore test of {RestoreWorld.SeedSet}/{world.SeedSnapshot} (1 links,", drill.Stdout, StringComparison.Ordinal);
        Assert.Contains("restored in", drill.Stdout, StringComparison.Ordinal);
        Assert.Contains("but no canary recorded for this snapshot (CANARY_FILE unset when it was made)", drill.Stdout, StringComparison.Ordinal);
        await AssertScratchEmptyAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_scratch_directory_not_on_btrfs_is_UNKNOWN_exit_3_naming_the_directory()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdrill");
        var notBtrfs = dir.Sub("scratch-on-tmp");
        Directory.CreateDirectory(notBtrfs);

        var drill = await DrillAsync(world, RestoreWorld.Set, world.SetDirPath, notBtrfs);

        Assert.Equal(3, drill.ExitCode);
        var line = Assert.Single(drill.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"UNKNOWN: restore test of {RestoreWorld.Set} could not start: --scratch {notBtrfs} is not on a btrfs filesystem", line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(notBtrfs));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Restore_test_without_scratch_is_UNKNOWN_exit_3()
    {
        var world = await fixture.WorldAsync();

        var drill = await world.ProducerAsync("verify", "--restore-test", "--set", RestoreWorld.Set, "--from", world.SetDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath);

        Assert.Equal(3, drill.ExitCode);
        Assert.Equal("UNKNOWN: restore test could not start: --restore-test needs --scratch DIR (a directory on a btrfs filesystem)\n", drill.Stdout);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_flipped_byte_in_a_link_is_CRITICAL_exit_2_and_the_scratch_is_cleaned()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdrill");
        var copy = world.CopySet(dir);
        RestoreTests.FlipMiddleByte(Path.Combine(copy, world.Snapshots[2] + ".incr.btrfs.gpg"));
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await DrillAsync(world, RestoreWorld.Set, copy, scratch.MountDirPath);

        Assert.Equal(2, drill.ExitCode);
        Assert.StartsWith($"CRITICAL: restore test of {RestoreWorld.Set}/{world.Snapshots[3]} FAILED: link 3/4 {world.Snapshots[2]}", drill.Stdout, StringComparison.Ordinal);
        Assert.Contains("SHA-256", drill.Stdout, StringComparison.Ordinal);
        await AssertScratchEmptyAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Over_ssh_the_canary_listed_by_the_receiver_is_compared_and_a_match_is_OK_exit_0()
    {
        var world = await fixture.WorldAsync();
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");

        var drill = await world.ProducerAsync("verify", "--restore-test", "--config", world.ConfigFilePath, "--snapshot", world.Snapshots[0], "--scratch", scratch.MountDirPath);

        Assert.True(drill.ExitCode == 0, drill.Stdout + drill.Stderr);
        Assert.Matches($@"^OK: restore test of {RestoreWorld.Set}/{world.Snapshots[0]} \(1 links, [0-9.]+ [KMG]?i?B\) restored and canary matched in [0-9.]+ s$", drill.Stdout.Trim());
        await AssertScratchEmptyAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Over_ssh_a_stored_manifest_whose_canary_token_was_changed_on_the_receiver_is_CRITICAL_exit_2()
    {
        var world = await fixture.WorldAsync();
        var manifestPath = Path.Combine(world.SetDirPath, world.Snapshots[0] + ".manifest");
        var original = await File.ReadAllBytesAsync(manifestPath);
        var manifest = ManifestReader.Parse(original, manifestPath).Manifest!;
        var forged = manifest with { CanaryToken = new string(manifest.CanaryToken!.Reverse().ToArray()) };
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");
        (int ExitCode, string Stdout, string Stderr) drill;
        try
        {
            // As root, past the 0400 mode: the receiver serves whatever its store now says.
            await File.WriteAllTextAsync(manifestPath, ManifestWriter.Render(forged));
            drill = await world.ProducerAsync("verify", "--restore-test", "--config", world.ConfigFilePath, "--snapshot", world.Snapshots[0], "--scratch", scratch.MountDirPath);
        }
        finally
        {
            await File.WriteAllBytesAsync(manifestPath, original);
            File.SetUnixFileMode(manifestPath, UnixFileMode.UserRead);
        }

        Assert.True(drill.ExitCode == 2, drill.Stdout + drill.Stderr);
        Assert.StartsWith($"CRITICAL: restore test of {RestoreWorld.Set}/{world.Snapshots[0]} (1 links,", drill.Stdout, StringComparison.Ordinal);
        Assert.Contains("canary token does not match the manifest's canary_token", drill.Stdout, StringComparison.Ordinal);
        await AssertScratchEmptyAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    public async Task SIGTERM_during_the_second_link_exits_143_and_deletes_the_first_links_subvolume_and_the_subdirectory()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdrillterm");
        var copy = world.CopySet(dir, world.ZstdSetDirPath);
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rscratch");
        var (running, stdout, stderr) = await RestoreWorld.StartParkedAtSecondZstdLinkAsync(dir,
            "verify", "--restore-test", "--set", RestoreWorld.ZstdSet, "--from", copy, "--scratch", scratch.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath);
        var subdir = Assert.Single(Directory.GetDirectories(scratch.MountDirPath));
        Assert.Contains(world.ZstdSnapshots[0], Directory.GetDirectories(subdir).Select(Path.GetFileName));
        await Run.OutAsync("kill", "-TERM", running.ProcessId.ToString(CultureInfo.InvariantCulture));
        var result = await running;

        Assert.True(result.ExitCode == 143, stdout.ToString() + stderr);
        await AssertScratchEmptyAsync(scratch);
    }
}

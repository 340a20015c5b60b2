using System.Globalization;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// <c>extract</c>: one path of one snapshot of the shared <see cref="RestoreWorld"/>'s encrypted
/// chains, received under --chroot into a scratch area on a real btrfs, copied out with its
/// attributes, the scratch subvolumes deleted whatever happens.
/// </summary>
[Collection(RestoreCollection.Name)]
public sealed class ExtractTests(RestoreWorldFixture fixture)
{
    private static Task<(int ExitCode, string Stdout, string Stderr)> ExtractAsync(RestoreWorld world, string from, params string[] args)
        => world.ProducerAsync(["extract", "--set", RestoreWorld.ExtractSet, "--from", from, "--passphrase-file", world.Gpg.PassphraseFilePath, .. args]);

    /// <summary>Nothing of extract is left on the filesystem: no subvolume, no scratch subdirectory, no temporary copy.</summary>
    private static async Task AssertNoScratchLeftAsync(BtrfsLoopFixture fs, params string[] allowed)
    {
        Assert.Empty(await fs.ListSubvolumesAsync());
        Assert.Equal(allowed.Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(fs.MountDirPath).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static async Task<string> AttributesAsync(string path)
        => await Run.OutAsync("stat", "-c", "%F %a %u:%g %s %.9Y", path)
           + string.Join('\n', (await Run.OutAsync("getfattr", "-d", "-m", "-", "-e", "hex", "--absolute-names", path)).Split('\n').Skip(1))
           + string.Join('\n', (await Run.OutAsync("getfacl", "-n", "--absolute-names", path)).Split('\n').Skip(1));

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "setfacl", "getfattr")]
    public async Task A_file_from_an_incremental_snapshot_is_restored_byte_exact_with_mode_owner_mtime_xattr_and_acl_and_no_scratch_is_left()
    {
        var world = await fixture.WorldAsync();
        var snapshots = await world.ExtractSnapshotsAsync();
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");
        var source = Path.Combine(world.SourceSnapshotPath(snapshots[1]), "docs/report.txt");
        var to = dest.PathOf("report.txt");

        var extract = await ExtractAsync(world, world.ExtractSetDirPath, "docs/report.txt", "--snapshot", snapshots[1], "--to", to);

        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Equal($"extracted docs/report.txt from {RestoreWorld.ExtractSet} {snapshots[1]} to {to} (file, 200000 bytes)\n", extract.Stdout);
        Assert.Equal(await File.ReadAllBytesAsync(source), await File.ReadAllBytesAsync(to));
        var attributes = await AttributesAsync(source);
        Assert.Contains("regular file 640 1234:5678 200000 1577934245.000000000", attributes, StringComparison.Ordinal);
        Assert.Contains("user.note=0x6b6570742062792065787472616374", attributes, StringComparison.Ordinal);
        Assert.Contains("user:4321:r--", attributes, StringComparison.Ordinal);
        Assert.Equal(attributes, await AttributesAsync(to));
        await AssertNoScratchLeftAsync(dest, "report.txt");
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "setfacl", "getfattr", "python3")]
    public async Task A_directory_subtree_is_restored_with_every_attribute_hard_link_and_symlink_kept()
    {
        var world = await fixture.WorldAsync();
        var snapshots = await world.ExtractSnapshotsAsync();
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");
        var to = dest.PathOf("docs-restored");

        var extract = await ExtractAsync(world, world.ExtractSetDirPath, "/docs/", "--latest", "--to", to);

        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Equal($"extracted docs from {RestoreWorld.ExtractSet} {snapshots[1]} to {to} (directory)\n", extract.Stdout);
        await TreeDump.AssertSameAsync(Path.Combine(world.SourceSnapshotPath(snapshots[1]), "docs"), to,
            new TreeAllowance(null, "flags", "chattr flags are not copied by cp -a; btrfs sets NOCOMPRESS itself on a compress= mount"));
        Assert.Equal("report.txt", File.ResolveLinkTarget(Path.Combine(to, "rel"), returnFinalTarget: false)!.Name);
        Assert.Equal(await Run.OutAsync("stat", "-c", "%i", Path.Combine(to, "report.txt")), await Run.OutAsync("stat", "-c", "%i", Path.Combine(to, "report.hardlink")));
        await AssertNoScratchLeftAsync(dest, "docs-restored");
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_path_that_is_not_in_the_chosen_snapshot_fails_with_one_line_exit_5_and_leaves_no_scratch()
    {
        var world = await fixture.WorldAsync();
        var snapshots = await world.ExtractSnapshotsAsync();
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");

        // docs/report.txt only exists from the incremental on.
        var extract = await ExtractAsync(world, world.ExtractSetDirPath, "docs/report.txt", "--snapshot", snapshots[0], "--to", dest.PathOf("report.txt"), "--quiet");

        Assert.Equal(5, extract.ExitCode);
        var line = Assert.Single(extract.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.EndsWith($"docs/report.txt is not in snapshot {snapshots[0]} of set {RestoreWorld.ExtractSet}; nothing was copied", line, StringComparison.Ordinal);
        Assert.Empty(extract.Stdout);
        await AssertNoScratchLeftAsync(dest);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task An_existing_destination_is_refused_before_anything_is_received_and_replaced_with_force()
    {
        var world = await fixture.WorldAsync();
        var snapshots = await world.ExtractSnapshotsAsync();
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");
        var to = dest.PathOf("hostname");
        Directory.CreateDirectory(to);
        await File.WriteAllTextAsync(Path.Combine(to, "mine"), "keep me\n");

        var refused = await ExtractAsync(world, world.ExtractSetDirPath, "etc/hostname", "--latest", "--to", to);
        var kept = await File.ReadAllTextAsync(Path.Combine(to, "mine"));
        var forced = await ExtractAsync(world, world.ExtractSetDirPath, "etc/hostname", "--latest", "--to", to, "--force");

        Assert.Equal(5, refused.ExitCode);
        Assert.Contains($"--to {to} already exists; give --force to replace it, or another path; nothing was received", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Receiving", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal("keep me\n", kept);
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Equal("hostname inside the snapshot\n", await File.ReadAllTextAsync(to));
        await AssertNoScratchLeftAsync(dest, "hostname");
    }

    [RealTheory("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    [InlineData("../etc/passwd")]
    [InlineData("/etc/../../etc/passwd")]
    [InlineData("docs/../../x")]
    public async Task A_path_with_dotdot_is_refused_as_a_usage_error_before_anything_is_read(string path)
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("xhostile");

        var extract = await ExtractAsync(world, world.ExtractSetDirPath, path, "--latest", "--to", dir.Sub("out"));

        Assert.Equal(2, extract.ExitCode);
        Assert.StartsWith($"btrfs-send-backup: PATH '{path}' has a '..' segment; allowed: a path inside the snapshot, absolute (from the snapshot's root) or relative to it, without '..'\n", extract.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.DirPath));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_symlink_to_etc_in_the_snapshot_is_followed_inside_the_snapshot_never_to_the_hosts_etc()
    {
        var world = await fixture.WorldAsync();
        var snapshots = await world.ExtractSnapshotsAsync();
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");

        var inside = await ExtractAsync(world, world.ExtractSetDirPath, "abs-etc/hostname", "--latest", "--to", dest.PathOf("hostname"));
        var hostOnly = await ExtractAsync(world, world.ExtractSetDirPath, "abs-etc/passwd", "--latest", "--to", dest.PathOf("passwd"));
        var climbing = await ExtractAsync(world, world.ExtractSetDirPath, "var/up/etc/passwd", "--latest", "--to", dest.PathOf("up"));
        var link = await ExtractAsync(world, world.ExtractSetDirPath, "abs-etc", "--latest", "--to", dest.PathOf("abs-etc"));

        Assert.True(inside.ExitCode == 0, inside.Stderr);
        Assert.Contains("extracted abs-etc/hostname (resolved inside the snapshot to etc/hostname)", inside.Stdout, StringComparison.Ordinal);
        Assert.Equal("hostname inside the snapshot\n", await File.ReadAllTextAsync(dest.PathOf("hostname")));
        Assert.Equal(5, hostOnly.ExitCode);
        Assert.Contains($"abs-etc/passwd is not in snapshot {snapshots[1]} of set {RestoreWorld.ExtractSet} (no such file or directory: etc/passwd); nothing was copied", hostOnly.Stderr, StringComparison.Ordinal);
        Assert.Equal(5, climbing.ExitCode);
        Assert.Contains($"var/up/etc/passwd leaves snapshot {snapshots[1]} of set {RestoreWorld.ExtractSet}: a symbolic link on the way climbs above the snapshot's root with '..'; refused", climbing.Stderr, StringComparison.Ordinal);
        Assert.True(link.ExitCode == 0, link.Stderr);
        Assert.Equal("/etc", new FileInfo(dest.PathOf("abs-etc")).LinkTarget);
        await AssertNoScratchLeftAsync(dest, "abs-etc", "hostname");
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_destination_inside_the_scratch_or_containing_it_is_refused_and_a_scratch_not_on_btrfs_too()
    {
        var world = await fixture.WorldAsync();
        await world.ExtractSnapshotsAsync();
        await using var scratch = await BtrfsLoopFixture.CreateAsync("xscratch");
        using var dir = new TempDir("xnotbtrfs");
        Directory.CreateDirectory(scratch.PathOf("work"));

        var inside = await ExtractAsync(world, world.ExtractSetDirPath, "etc/hostname", "--latest", "--scratch", scratch.PathOf("work"), "--to", scratch.PathOf("work/hostname"));
        var containing = await ExtractAsync(world, world.ExtractSetDirPath, "etc/hostname", "--latest", "--scratch", scratch.PathOf("work"), "--to", scratch.MountDirPath, "--force");
        var notBtrfs = await ExtractAsync(world, world.ExtractSetDirPath, "etc/hostname", "--latest", "--to", dir.Sub("hostname"));

        Assert.Equal(5, inside.ExitCode);
        Assert.Contains($"--to {scratch.PathOf("work/hostname")} is inside --scratch {scratch.PathOf("work")}", inside.Stderr, StringComparison.Ordinal);
        Assert.Equal(5, containing.ExitCode);
        Assert.Contains($"--to {scratch.MountDirPath} is or contains the scratch directory {scratch.PathOf("work")}", containing.Stderr, StringComparison.Ordinal);
        Assert.Equal(9, notBtrfs.ExitCode);
        Assert.Contains($"--scratch (by default the directory of --to) {dir.DirPath} is not on a btrfs filesystem", notBtrfs.Stderr, StringComparison.Ordinal);
        Assert.Contains("give --scratch DIR on a btrfs filesystem", notBtrfs.Stderr, StringComparison.Ordinal);
        await AssertNoScratchLeftAsync(scratch, "work");
        Assert.Empty(Directory.GetFileSystemEntries(scratch.PathOf("work")));
        Assert.Empty(Directory.GetFileSystemEntries(dir.DirPath));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "setfacl", "getfattr")]
    public async Task To_a_destination_on_another_filesystem_with_scratch_on_btrfs_the_file_keeps_content_mode_owner_and_mtime()
    {
        var world = await fixture.WorldAsync();
        var snapshots = await world.ExtractSnapshotsAsync();
        await using var scratch = await BtrfsLoopFixture.CreateAsync("xscratch");
        using var dir = new TempDir("xother");
        var source = Path.Combine(world.SourceSnapshotPath(snapshots[1]), "docs/report.txt");

        var extract = await ExtractAsync(world, world.ExtractSetDirPath, "docs/report.txt", "--snapshot", snapshots[1], "--scratch", scratch.MountDirPath, "--to", dir.Sub("report.txt"));

        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Equal(await File.ReadAllBytesAsync(source), await File.ReadAllBytesAsync(dir.Sub("report.txt")));
        Assert.Equal(await Run.OutAsync("stat", "-c", "%a %u:%g %.9Y", source), await Run.OutAsync("stat", "-c", "%a %u:%g %.9Y", dir.Sub("report.txt")));
        await AssertNoScratchLeftAsync(scratch);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Over_ssh_through_the_receivers_get_a_file_of_an_incremental_is_extracted()
    {
        var world = await fixture.WorldAsync();
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");

        var extract = await world.ProducerAsync("extract", "--config", world.ConfigFilePath, "--snapshot", world.Snapshots[1], "/etc/hostname", "--to", dest.PathOf("hostname"));

        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(world.SourceSnapshotPath(world.Snapshots[1]), "etc/hostname")), await File.ReadAllBytesAsync(dest.PathOf("hostname")));
        Assert.Equal("changed once\n", await File.ReadAllTextAsync(dest.PathOf("hostname")));
        await AssertNoScratchLeftAsync(dest, "hostname");
    }

    [RealTheory("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "zstd")]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task A_signal_during_the_receive_of_the_second_link_deletes_the_scratch_subvolumes_and_exits_with_the_signal_code(string signal, int exitCode)
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("xsignal");
        await using var dest = await BtrfsLoopFixture.CreateAsync("xdest");
        var (running, stdout, stderr) = await RestoreWorld.StartParkedAtSecondZstdLinkAsync(dir,
            "extract", "--set", RestoreWorld.ZstdSet, "--from", world.ZstdSetDirPath, "--snapshot", world.ZstdSnapshots[1], "var/zstd-1.txt",
            "--to", dest.PathOf("zstd-1.txt"), "--passphrase-file", world.Gpg.PassphraseFilePath);
        var area = Assert.Single(Directory.GetDirectories(dest.MountDirPath));
        Assert.StartsWith("btrfs-send-extract-", Path.GetFileName(area), StringComparison.Ordinal);
        Assert.Contains(world.ZstdSnapshots[0], Directory.GetDirectories(area).Select(Path.GetFileName));
        await Run.OutAsync("kill", "-" + signal, running.ProcessId.ToString(CultureInfo.InvariantCulture));
        var result = await running;

        Assert.True(result.ExitCode == exitCode, stdout.ToString() + stderr);
        Assert.Empty(stdout.ToString());
        await AssertNoScratchLeftAsync(dest);
    }
}

using BtrfsSend.Core.Manifests;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

[Collection(RestoreCollection.Name)]
public sealed class RestoreTests(RestoreWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Restore_from_a_copied_directory_receives_the_full_and_every_incremental_exactly()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rcopy");
        var copy = world.CopySet(dir);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("4 link(s) received", restore.Stdout, StringComparison.Ordinal);
        foreach (var snapshot in world.Snapshots)
        {
            await world.AssertRestoredAsync(snapshot, target.PathOf(snapshot));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Restore_over_ssh_receives_a_full_plus_one_incremental_through_the_receivers_get()
    {
        var world = await fixture.WorldAsync();
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--config", world.ConfigFilePath, "--snapshot", world.Snapshots[1], "--to", target.MountDirPath);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        await world.AssertRestoredAsync(world.Snapshots[0], target.PathOf(world.Snapshots[0]));
        await world.AssertRestoredAsync(world.Snapshots[1], target.PathOf(world.Snapshots[1]));
        Assert.Equal(2, (await target.ListSubvolumesAsync()).Count);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Over_ssh_a_stored_file_that_no_longer_matches_its_manifest_fails_that_link_because_the_receiver_withholds_the_trailer()
    {
        var world = await fixture.WorldAsync();
        var stored = Path.Combine(world.SetDirPath, world.Snapshots[1] + ".incr.btrfs.gpg");
        var original = await File.ReadAllBytesAsync(stored);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");
        (int ExitCode, string Stdout, string Stderr) restore;
        try
        {
            FlipMiddleByte(stored);
            restore = await world.ProducerAsync("restore", "--config", world.ConfigFilePath, "--snapshot", world.Snapshots[1], "--to", target.MountDirPath);
        }
        finally
        {
            await File.WriteAllBytesAsync(stored, original);
            File.SetUnixFileMode(stored, UnixFileMode.UserRead);
        }

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 2/2 {world.Snapshots[1]} (incremental) failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("ended without its trailer", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0]], await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task An_interrupted_restore_resumes_after_the_links_it_already_received()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rresume");
        var copy = world.CopySet(dir);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");
        var first = await world.RestoreFromAsync(copy, target.MountDirPath, "--snapshot", world.Snapshots[2]);
        Assert.True(first.ExitCode == 0, first.Stderr);
        var fullUuid = (await BtrfsLoopFixture.ShowAsync(target.PathOf(world.Snapshots[0]))).Uuid;
        // Interrupted while receiving link 3: what the restore would have left is gone (or was deleted by hand).
        await Run.OutAsync("btrfs", "subvolume", "delete", target.PathOf(world.Snapshots[2]));

        var again = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("2 link(s) received, 2 already there", again.Stdout, StringComparison.Ordinal);
        Assert.Contains("skipped", again.Stderr, StringComparison.Ordinal);
        Assert.Equal(fullUuid, (await BtrfsLoopFixture.ShowAsync(target.PathOf(world.Snapshots[0]))).Uuid);
        foreach (var snapshot in world.Snapshots)
        {
            await world.AssertRestoredAsync(snapshot, target.PathOf(snapshot));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_half_received_leftover_in_the_target_is_refused_not_trusted_or_deleted()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rleft");
        var copy = world.CopySet(dir);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");
        await target.CreateSubvolumeAsync(world.Snapshots[0]); // writable, no received_uuid: what a killed receive leaves

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.Equal(5, restore.ExitCode);
        Assert.Contains("is not a finished receive", restore.Stderr, StringComparison.Ordinal);
        Assert.Single(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_wrong_passphrase_fails_clearly_and_leaves_nothing_in_the_target()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rwrong");
        var copy = world.CopySet(dir);
        var wrong = dir.Sub("wrong-passphrase");
        await File.WriteAllTextAsync(wrong, "not the passphrase\n");
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.Set, "--from", copy, "--to", target.MountDirPath, "--passphrase-file", wrong);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 1/4 {world.Snapshots[0]}", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("wrong passphrase", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_flipped_byte_in_the_middle_link_fails_it_naming_the_SHA_256_mismatch_and_leaves_nothing_of_it()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rflip");
        var copy = world.CopySet(dir);
        FlipMiddleByte(Path.Combine(copy, world.Snapshots[1] + ".incr.btrfs.gpg"));
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 2/4 {world.Snapshots[1]}", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("SHA-256", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0]], await target.ListSubvolumesAsync());
        await world.AssertRestoredAsync(world.Snapshots[0], target.PathOf(world.Snapshots[0]));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_flipped_byte_whose_manifest_was_forged_to_match_is_caught_while_decrypting_and_its_partial_subvolume_deleted()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rforge");
        var copy = world.CopySet(dir);
        var file = Path.Combine(copy, world.Snapshots[2] + ".incr.btrfs.gpg");
        FlipMiddleByte(file);
        var forgedSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(file)));
        await RestoreWorld.RewriteManifestAsync(copy, world.Snapshots[2], m => m with { StreamSha256 = forgedSha256 });

        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 3/4 {world.Snapshots[2]} (incremental) failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains($"deleted what it left behind ({target.PathOf(world.Snapshots[2])})", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("the 2 link(s) before it are kept", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0], world.Snapshots[1]], await target.ListSubvolumesAsync());
        await world.AssertRestoredAsync(world.Snapshots[0], target.PathOf(world.Snapshots[0]));
        await world.AssertRestoredAsync(world.Snapshots[1], target.PathOf(world.Snapshots[1]));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_missing_middle_link_is_refused_by_name_before_anything_is_received()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rmissing");
        var copy = world.CopySet(dir);
        File.Delete(Path.Combine(copy, world.Snapshots[1] + ".incr.btrfs.gpg"));
        File.Delete(Path.Combine(copy, world.Snapshots[1] + ".manifest"));
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.RestoreFromAsync(copy, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"missing link: {world.Snapshots[1]}", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_stream_encrypted_by_stock_gpg_symmetric_restores_too_when_allowed_as_unbound()
    {
        var world = await fixture.WorldAsync();
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.SeedSet, "--from", world.SeedStoreDirPath, "--to", target.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--allow-unbound");

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        await world.AssertRestoredAsync(world.SeedSnapshot, target.PathOf(world.SeedSnapshot));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Dry_run_changes_nothing_and_its_plain_gpg_commands_restore_the_chain_by_hand()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdry");
        var copy = world.CopySet(dir);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var dry = await world.RestoreFromAsync(copy, target.MountDirPath, "--dry-run", "--snapshot", world.Snapshots[2]);

        Assert.True(dry.ExitCode == 0, dry.Stderr);
        Assert.Empty(await target.ListSubvolumesAsync());
        var commands = dry.Stdout.Split('\n')
            .SkipWhile(l => !l.StartsWith("by hand", StringComparison.Ordinal)).Skip(1)
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal("set -o pipefail", commands[0]);
        Assert.Equal(3, commands.Count(c => c.StartsWith("gpg --batch --pinentry-mode loopback --passphrase-file ", StringComparison.Ordinal)
            && c.EndsWith($"| btrfs receive --chroot {target.MountDirPath}", StringComparison.Ordinal)));
        Assert.Contains($"--decrypt {Path.Combine(copy, world.Snapshots[0])}.full.btrfs.gpg |", commands[2], StringComparison.Ordinal);

        var byHand = await Run.TryAsync("env", $"GNUPGHOME={world.Gpg.HomeDirPath}", "bash", "-e", "-c", string.Join('\n', commands));

        Assert.True(byHand.IsSuccess, byHand.StandardErrorTail);
        for (var i = 0; i < 3; i++)
        {
            await world.AssertRestoredAsync(world.Snapshots[i], target.PathOf(world.Snapshots[i]));
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Restore_list_shows_each_snapshot_with_its_chain_length_over_ssh()
    {
        var world = await fixture.WorldAsync();

        var list = await world.ProducerAsync("restore", "--list", "--config", world.ConfigFilePath);

        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Contains("4 stored stream(s), 4 restorable", list.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{world.Snapshots[0]}  full  chain 1 link(s)", list.Stdout, StringComparison.Ordinal);
        Assert.Contains($"{world.Snapshots[3]}  incremental on {world.Snapshots[2]}  chain 4 link(s)", list.Stdout, StringComparison.Ordinal);
    }

    internal static void FlipMiddleByte(string filePath)
    {
        File.SetUnixFileMode(filePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var file = new FileStream(filePath, FileMode.Open, FileAccess.ReadWrite);
        file.Position = file.Length / 2;
        var b = file.ReadByte();
        file.Position = file.Length / 2;
        file.WriteByte((byte)(b ^ 0x40));
    }
}

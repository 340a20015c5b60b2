using BtrfsSend.Core.Manifests;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// What a stream is, is bound inside it (docs/stream-format.md): a hostile backup server that
/// lists another set's or snapshot's stream, a stream anyone with the public key could make, or a
/// stream signed by another key, is refused by restore and verify before btrfs receive sees END.
/// </summary>
[Collection(RestoreCollection.Name)]
public sealed class BindingTests(RestoreWorldFixture fixture)
{
    [Trait("Category", "Fault")]
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Another_sets_stream_with_the_same_passphrase_listed_under_this_set_is_refused()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rbind");
        var hostile = dir.Sub("hostile");
        // prod-srv/zstd's full, made by the producer with the same passphrase, listed as a full of prod-srv/rootfs.
        var other = world.ZstdSnapshots[0];
        await RestoreWorld.StoreAsFullAsync(Path.Combine(world.ZstdSetDirPath, other + ".full.btrfs.gpg"), hostile, RestoreWorld.Set, other, StreamEncryption.OpenPgpSymmetric, StreamCompression.Zstd);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.RestoreFromAsync(hostile, target.MountDirPath);
        var verify = await world.ProducerAsync("verify", "--set", RestoreWorld.Set, "--from", hostile, "--passphrase-file", world.Gpg.PassphraseFilePath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"{other}.full.btrfs.gpg is not what set {RestoreWorld.Set} lists: it is bound to set {RestoreWorld.ZstdSet}, not {RestoreWorld.Set}; refused", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
        Assert.Equal(8, verify.ExitCode);
        Assert.Contains($"FAIL  {other}", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains($"bound to set {RestoreWorld.ZstdSet}", verify.Stdout, StringComparison.Ordinal);
    }

    [Trait("Category", "Fault")]
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_stream_listed_under_another_snapshot_name_is_refused_naming_the_bound_snapshot()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rbind");
        var hostile = dir.Sub("hostile");
        // The set's own first full, listed as a newer snapshot (a server replaying old data as new).
        var renamed = world.Snapshots[0].Replace("-2026", "-2027", StringComparison.Ordinal);
        await RestoreWorld.StoreAsFullAsync(Path.Combine(world.SetDirPath, world.Snapshots[0] + ".full.btrfs.gpg"), hostile, RestoreWorld.Set, renamed, StreamEncryption.OpenPgpSymmetric);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.RestoreFromAsync(hostile, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"it is bound to snapshot {world.Snapshots[0]}, not {renamed}; refused", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task An_unbound_stream_is_refused_without_allow_unbound_and_restored_and_reported_with_it()
    {
        var world = await fixture.WorldAsync();
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");
        string[] args = ["restore", "--set", RestoreWorld.SeedSet, "--from", world.SeedStoreDirPath, "--to", target.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath];

        var refused = await world.ProducerAsync(args);
        Assert.Equal(8, refused.ExitCode);
        Assert.Contains("is unbound: it does not say which set and snapshot it is", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("--allow-unbound", refused.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());

        var restored = await world.ProducerAsync([.. args, "--allow-unbound"]);
        Assert.True(restored.ExitCode == 0, restored.Stderr);
        await world.AssertRestoredAsync(world.SeedSnapshot, target.PathOf(world.SeedSnapshot));

        var verify = await world.ProducerAsync("verify", "--set", RestoreWorld.SeedSet, "--from", world.SeedStoreDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--allow-unbound");
        Assert.True(verify.ExitCode == 0, verify.Stderr);
        Assert.Contains("UNBOUND", verify.Stdout, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Producer_streams_report_bound_on_verify_and_signed_in_public_key_mode()
    {
        var world = await fixture.WorldAsync();

        var symmetric = await world.ProducerAsync("verify", "--set", RestoreWorld.Set, "--from", world.StoreDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--snapshot", world.Snapshots[1]);
        var pubkey = await world.ProducerAsync("verify", "--set", RestoreWorld.PubkeySet, "--from", world.StoreDirPath, "--key-file", world.Gpg.SecretKeyArmoredFilePath!, "--verify-key", world.SigningKeyFilePath + ".pub");

        Assert.True(symmetric.ExitCode == 0, symmetric.Stderr);
        Assert.Equal(2, symmetric.Stdout.Split('\n').Count(l => l.StartsWith("OK", StringComparison.Ordinal) && l.EndsWith("commands, bound", StringComparison.Ordinal)));
        Assert.True(pubkey.ExitCode == 0, pubkey.Stderr);
        Assert.Contains("commands, bound, signed", pubkey.Stdout, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task In_public_key_mode_a_signed_stream_restores_over_ssh_with_the_configured_verify_key()
    {
        var world = await fixture.WorldAsync();
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--config", world.PubkeyConfigFilePath, "--key-file", world.Gpg.SecretKeyArmoredFilePath!, "--to", target.MountDirPath);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        await world.AssertRestoredAsync(world.PubkeySnapshot, target.PathOf(world.PubkeySnapshot));
    }

    [Trait("Category", "Fault")]
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task In_public_key_mode_an_unsigned_stream_made_with_the_public_key_is_refused()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rbind");
        // What anyone holding the public key can make: btrfs send | gpg --encrypt, no signature.
        var forged = dir.Sub("forged.gpg");
        await (Cli.Wrap("btrfs").WithArguments(["send", "-q", world.SourceSnapshotPath(world.PubkeySnapshot)])
            | Cli.Wrap("gpg").WithArguments(world.Gpg.Gpg("--trust-model", "always", "--recipient", world.Gpg.Fingerprint!, "--encrypt", "--output", forged).Skip(1))).ExecuteAsync();
        var hostile = dir.Sub("hostile");
        await RestoreWorld.StoreAsFullAsync(forged, hostile, RestoreWorld.PubkeySet, world.PubkeySnapshot, StreamEncryption.OpenPgpPubkey);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.PubkeySet, "--from", hostile, "--to", target.MountDirPath,
            "--key-file", world.Gpg.SecretKeyArmoredFilePath!, "--verify-key", world.SigningKeyFilePath + ".pub");

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains("is not signed: streams encrypted to a public key must carry the producer's signature", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task In_public_key_mode_a_stream_signed_by_another_key_is_refused_by_restore_verify_and_the_drill()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rbind");
        var foreign = dir.Sub("foreign.key");
        var keygen = await world.ProducerAsync("keygen", "--signing-key", foreign);
        Assert.True(keygen.ExitCode == 0, keygen.Stderr);
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");
        string[] keys = ["--key-file", world.Gpg.SecretKeyArmoredFilePath!, "--verify-key", foreign + ".pub"];

        var restore = await world.ProducerAsync(["restore", "--set", RestoreWorld.PubkeySet, "--from", world.StoreDirPath, "--to", target.MountDirPath, .. keys]);
        var verify = await world.ProducerAsync(["verify", "--set", RestoreWorld.PubkeySet, "--from", world.StoreDirPath, .. keys]);
        var drill = await world.ProducerAsync(["verify", "--restore-test", "--set", RestoreWorld.PubkeySet, "--from", world.StoreDirPath, "--scratch", target.MountDirPath, .. keys]);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains("OpenPGP: signature refused: the stream is signed by key", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("not by the verify key", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal(8, verify.ExitCode);
        Assert.Contains("signature refused", verify.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, drill.ExitCode);
        Assert.StartsWith("CRITICAL", drill.Stdout, StringComparison.Ordinal);
        Assert.Contains("signature refused", drill.Stdout, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task In_public_key_mode_restore_without_a_verify_key_says_how_to_give_one()
    {
        var world = await fixture.WorldAsync();
        await using var target = await BtrfsLoopFixture.CreateAsync("rtarget");

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.PubkeySet, "--from", world.StoreDirPath, "--to", target.MountDirPath, "--key-file", world.Gpg.SecretKeyArmoredFilePath!);

        Assert.NotEqual(0, restore.ExitCode);
        Assert.Contains("give --verify-key FILE", restore.Stderr, StringComparison.Ordinal);
    }
}

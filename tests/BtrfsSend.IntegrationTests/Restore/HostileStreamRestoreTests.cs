using System.Globalization;
using System.Text;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Commands.Shared;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// A compromised backup server (or anyone with the public key) makes a stream that decrypts
/// correctly but writes through a symlink: <c>esc -&gt; /an/absolute/dir</c>, then
/// <c>esc/pwned</c>. It is stored through the real receiver, so its manifest is real. Restore
/// from a directory, over ssh and the drill must not create the file outside their target.
/// </summary>
[Collection(RestoreCollection.Name)]
public sealed class HostileStreamRestoreTests(RestoreWorldFixture fixture)
{
    private static int _counter;

    public enum Encryption
    {
        Passphrase,
        PublicKey,
    }

    public enum Route
    {
        FromDirectory,
        OverSsh,
        DrillFromDirectory,
        DrillOverSsh,
    }

    [Trait("Category", "Fault")]
    [RealTheory("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    [InlineData(Encryption.Passphrase, Route.FromDirectory)]
    [InlineData(Encryption.Passphrase, Route.OverSsh)]
    [InlineData(Encryption.Passphrase, Route.DrillFromDirectory)]
    [InlineData(Encryption.Passphrase, Route.DrillOverSsh)]
    [InlineData(Encryption.PublicKey, Route.FromDirectory)]
    [InlineData(Encryption.PublicKey, Route.OverSsh)]
    [InlineData(Encryption.PublicKey, Route.DrillFromDirectory)]
    [InlineData(Encryption.PublicKey, Route.DrillOverSsh)]
    public async Task A_stream_that_writes_through_a_symlink_to_an_absolute_directory_writes_nothing_outside_the_target(Encryption encryption, Route route)
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rhostile");
        using var gpg = new GpgFixture();
        var outside = dir.Sub("outside");
        Directory.CreateDirectory(outside);
        string[] keyArgs;
        EncryptionKeys keys;
        if (encryption == Encryption.PublicKey)
        {
            await gpg.GenerateKeyPairAsync("ed25519");
            keys = EncryptionKeys.FromPublicKeyFile(gpg.PublicKeyArmoredFilePath!);
            keyArgs = ["--key-file", gpg.SecretKeyArmoredFilePath!];
        }
        else
        {
            keys = EncryptionKeys.FromPassphraseFile(world.Gpg.PassphraseFilePath);
            keyArgs = ["--passphrase-file", world.Gpg.PassphraseFilePath];
        }

        var n = Interlocked.Increment(ref _counter).ToString(CultureInfo.InvariantCulture);
        var set = $"hostile/{(encryption == Encryption.PublicKey ? "pub" : "sym")}-{n}";
        var snapshot = await StoreHostileStreamAsync(world, dir, set, $"evil{n}", outside, keys);
        await using var target = await BtrfsLoopFixture.CreateAsync("rhtarget");
        string[] source = route is Route.FromDirectory or Route.DrillFromDirectory
            ? ["--from", world.CopySet(dir, Path.Combine(world.StoreDirPath, set))]
            : ["--config", world.ConfigFilePath];

        // The hand-made stream carries no binding (and no signature), so restore would refuse it
        // before btrfs receive; --allow-unbound (as for the shell scripts' old streams) lets it
        // through to show that --chroot alone confines it.
        (int ExitCode, string Stdout, string Stderr) result = route is Route.FromDirectory or Route.OverSsh
            ? await world.ProducerAsync(["restore", "--set", set, .. source, .. keyArgs, "--allow-unbound", "--to", target.MountDirPath])
            : await world.ProducerAsync(["verify", "--restore-test", "--set", set, .. source, .. keyArgs, "--allow-unbound", "--scratch", target.MountDirPath]);

        Assert.Empty(Directory.GetFileSystemEntries(outside));
        Assert.False(result.ExitCode == 0, "the hostile stream restored as if nothing happened: " + result.Stdout + result.Stderr);
        var said = result.Stdout + result.Stderr;
        Assert.Contains($"{snapshot}", said, StringComparison.Ordinal);
        Assert.Contains("mkfile esc/pwned failed", said, StringComparison.Ordinal);
        Assert.DoesNotContain("Chroot to", said, StringComparison.Ordinal);
        if (route is Route.DrillFromDirectory or Route.DrillOverSsh)
        {
            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith($"CRITICAL: restore test of {set}/{snapshot} FAILED", result.Stdout, StringComparison.Ordinal);
        }

        Assert.Empty(await target.ListSubvolumesAsync());
    }

    /// <summary>
    /// A real snapshot's <c>btrfs send</c> with the escape appended, encrypted with
    /// <paramref name="keys"/> and uploaded with the producer's own send pipeline to
    /// <paramref name="set"/> (the receiver writes the manifest). Returns the snapshot name.
    /// </summary>
    internal static async Task<SnapshotName> StoreHostileStreamAsync(RestoreWorld world, TempDir dir, string set, string prefix, string outsideDirPath, EncryptionKeys keys)
    {
        var snapshot = SnapshotName.Create(prefix, DateTimeOffset.UtcNow);
        var sources = world.Prod.PathOf("hostile-sources");
        Directory.CreateDirectory(sources);
        var subvolume = await world.Prod.CreateSubvolumeAsync(Path.Combine("hostile-sources", prefix + "-src"));
        await File.WriteAllTextAsync(Path.Combine(subvolume, "innocent.txt"), "nothing to see\n");
        var snapshotPath = await world.Prod.SnapshotReadOnlyAsync(subvolume, Path.Combine("hostile-sources", snapshot.Value));
        var plain = new MemoryStream();
        await Cli.Wrap("btrfs").WithArguments(["send", "-q", snapshotPath]).WithStandardOutputPipe(PipeTarget.ToStream(plain)).ExecuteAsync();
        var forged = SendStreamForge.WithWriteThroughSymlink(plain.ToArray(), outsideDirPath, "pwned", Encoding.ASCII.GetBytes("* * * * * root touch /tmp/owned\n"));
        var forgedFile = dir.Sub(snapshot.Value + ".stream");
        await File.WriteAllBytesAsync(forgedFile, forged);

        var options = ProducerConfig.Load(world.ConfigFilePath, Serilog.Core.Logger.None);
        var receiver = ProducerConfig.Receiver(options, new ToolRunner());
        var request = new ReceiveStreamRequest(BackupSet.Parse(set), snapshot, isIncremental: false, parent: null)
        {
            Declared = new StreamDeclaration { SnapshotUuid = (await BtrfsLoopFixture.ShowAsync(snapshotPath)).Uuid },
        };
        await new SendPipeline(receiver, Serilog.Core.Logger.None).RunAsync(["cat", forgedFile], request, keys);
        return snapshot;
    }
}

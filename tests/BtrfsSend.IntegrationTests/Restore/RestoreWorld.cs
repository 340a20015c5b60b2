using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.IntegrationTests.Support;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// Built once for all restore tests (they share <see cref="RestoreCollection"/>): prod-srv's loop
/// btrfs with @rootfs, the real receiver behind a private sshd with the production forced command,
/// and four real producer runs (a full and three incrementals) whose source snapshots stay in
/// @backup-snapshots for comparison. Also a set <c>seed/gpg</c> holding one stream made by
/// <c>btrfs send | gpg --symmetric</c>, with a manifest written by ManifestWriter. The two servers
/// are a <see cref="ServerPair"/>, as in the producer tests' BackupWorld.
/// </summary>
internal sealed class RestoreWorld : ServerPair
{
    public const string Set = "prod-srv/rootfs";
    public const string SeedSet = "seed/gpg";
    public const string ZstdSet = "prod-srv/zstd";
    public const string CanaryFile = ".btrfs-send-canary";
    public const string PubkeySet = "prod-srv/pubkey";
    public const string ExtractSet = "prod-srv/extract";

    private RestoreWorld((BtrfsLoopFixture Prod, TempDir Dir, SshdFixture Sshd) servers, GpgFixture gpg)
        : base(servers)
    {
        Gpg = gpg;
    }

    public GpgFixture Gpg { get; }

    public string SetDirPath => Path.Combine(StoreDirPath, "prod-srv", "rootfs");

    public string SeedStoreDirPath => Dir.Sub("seed-store");

    /// <summary>The same source backed up with COMPRESSION=zstd into <see cref="ZstdSet"/>.</summary>
    public string ZstdConfigFilePath => Dir.Sub("prod-zstd.conf");

    public string ZstdSetDirPath => Path.Combine(StoreDirPath, "prod-srv", "zstd");

    /// <summary>The snapshots in <see cref="ZstdSet"/>: a full and an incremental.</summary>
    public IReadOnlyList<string> ZstdSnapshots { get; private set; } = [];

    /// <summary>The stored snapshots, oldest (the full) first.</summary>
    public IReadOnlyList<string> Snapshots { get; private set; } = [];

    /// <summary>Public-key mode (RECIPIENT_KEY_FILE + SIGNING_KEY_FILE from keygen) into <see cref="PubkeySet"/>.</summary>
    public string PubkeyConfigFilePath => Dir.Sub("prod-pubkey.conf");

    public string PubkeySetDirPath => Path.Combine(StoreDirPath, "prod-srv", "pubkey");

    /// <summary>The producer's signing key made by keygen; its public half is <c>SigningKeyFilePath + ".pub"</c>.</summary>
    public string SigningKeyFilePath => Dir.Sub("signing.key");

    /// <summary>The one snapshot in <see cref="PubkeySet"/> (a full).</summary>
    public string PubkeySnapshot { get; private set; } = "";

    /// <summary>The config of <see cref="ExtractSet"/>: subvolume @extract, made by <see cref="ExtractSnapshotsAsync"/>.</summary>
    public string ExtractConfigFilePath => Dir.Sub("prod-extract.conf");

    public string ExtractSetDirPath => Path.Combine(StoreDirPath, "prod-srv", "extract");

    private Task<IReadOnlyList<string>>? _extractSnapshots;

    /// <summary>
    /// The snapshots of <see cref="ExtractSet"/> (a full, then an incremental), made on first use
    /// (the restore tests share one collection and run one after another). The incremental adds
    /// docs/report.txt (mode 0640, owner 1234:5678, an old mtime, a user xattr and an ACL entry),
    /// its hard link docs/report.hardlink, docs/rel -&gt; report.txt, abs-etc -&gt; /etc and
    /// var/up -&gt; ../.. (climbs above the snapshot's root).
    /// </summary>
    public Task<IReadOnlyList<string>> ExtractSnapshotsAsync() => _extractSnapshots ??= BackUpExtractSetAsync();

    /// <summary>The snapshot in <see cref="SeedSet"/>.</summary>
    public string SeedSnapshot { get; private set; } = "";

    public static async Task<RestoreWorld> CreateAsync()
    {
        var world = new RestoreWorld(await StartAsync("rprod", 512L * 1024 * 1024), new GpgFixture());
        try
        {
            await world.WriteConfigAsync();
            await world.BackUpFourTimesAsync();
            await world.BackUpZstdTwiceAsync();
            await world.MakeSeedStreamAsync();
            await world.BackUpPubkeyOnceAsync();
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary><c>restore</c> from a directory with the passphrase file, plus <paramref name="args"/>.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RestoreFromAsync(string fromDirPath, string toDirPath, params string[] args)
        => ProducerAsync(["restore", "--set", Set, "--from", fromDirPath, "--to", toDirPath, "--passphrase-file", Gpg.PassphraseFilePath, .. args]);

    /// <summary>
    /// Starts the producer with <paramref name="args"/> (a command reading <see cref="ZstdSet"/>)
    /// under a zstd on PATH, written into <paramref name="dir"/>, that lets link 1 through and parks
    /// link 2, and waits (at most 60 s) until link 2 is parked: a signal sent then lands mid-receive,
    /// with link 1 already received.
    /// </summary>
    public static async Task<(CommandTask<CommandResult> Running, StringBuilder Stdout, StringBuilder Stderr)> StartParkedAtSecondZstdLinkAsync(TempDir dir, params string[] args)
    {
        var bin = dir.Sub("bin");
        Directory.CreateDirectory(bin);
        var first = dir.Sub("zstd-1");
        var second = dir.Sub("zstd-2");
        await File.WriteAllTextAsync(Path.Combine(bin, "zstd"), $"#!/bin/sh\nif [ -e {first} ]; then touch {second}; sleep 30; fi\ntouch {first}\nexec /usr/bin/zstd \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "zstd"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var running = Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments(args)
            .WithEnvironmentVariables(e => e.Set("PATH", $"{bin}:{Environment.GetEnvironmentVariable("PATH")}"))
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
        for (var i = 0; i < 1200 && !File.Exists(second) && !running.Task.IsCompleted; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(second), $"{args[0]} never reached link 2: {stdout}{stderr}");
        return (running, stdout, stderr);
    }

    /// <summary>A copy of the set's directory (files as the receiver stored them) in <paramref name="into"/>.</summary>
    public string CopySet(TempDir into, string? setDirPath = null)
    {
        var copy = into.Sub("copy-of-" + Path.GetFileName(setDirPath ?? SetDirPath));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(setDirPath ?? SetDirPath).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)))
        {
            var target = Path.Combine(copy, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return copy;
    }

    /// <summary>Rewrites <paramref name="snapshot"/>'s manifest in <paramref name="setDirPath"/> (a copy of the set) as <paramref name="change"/> makes it.</summary>
    public static async Task RewriteManifestAsync(string setDirPath, string snapshot, Func<Manifest, Manifest> change)
    {
        var manifestPath = Path.Combine(setDirPath, snapshot + ".manifest");
        var manifest = ManifestReader.Parse(await File.ReadAllBytesAsync(manifestPath), manifestPath).Manifest!;
        await File.WriteAllTextAsync(manifestPath, ManifestWriter.Render(change(manifest)));
    }

    public string SourceSnapshotPath(string snapshot) => Path.Combine(SnapshotDirPath, snapshot);

    /// <summary>Asserts <paramref name="received"/> is a finished receive of <paramref name="snapshot"/>, equal in every file.</summary>
    public Task AssertRestoredAsync(string snapshot, string received) => AssertReceivedCopyOfAsync(SourceSnapshotPath(snapshot), received);

    /// <summary>Asserts <paramref name="received"/> is a finished receive of the subvolume at <paramref name="source"/>, equal in every file.</summary>
    public static async Task AssertReceivedCopyOfAsync(string source, string received)
    {
        var facts = await BtrfsLoopFixture.ShowAsync(received);
        Assert.True(facts.IsCompleteReceive, $"{received}: {facts}");
        Assert.Equal((await BtrfsLoopFixture.ShowAsync(source)).Uuid, facts.ReceivedUuid);
        await TreeDump.AssertSameAsync(source, received, [.. TreeAllowance.BtrfsSendLimits]);
    }

    protected override ValueTask DisposeOwnAsync()
    {
        Gpg.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task WriteConfigAsync()
    {
        await File.WriteAllTextAsync(ConfigFilePath, Config(Set, "prod-srv-rootfs", "last-sent") + "CANARY_FILE=" + CanaryFile + "\n");
        await File.WriteAllTextAsync(ZstdConfigFilePath, Config(ZstdSet, "prod-srv-zstd", "last-sent-zstd") + "COMPRESSION=zstd\nCANARY_FILE=" + CanaryFile + "\n");
    }

    private string Config(string set, string prefix, string state) =>
        SourceAndTargetConfig(set, prefix, Dir.Sub("state", state))
        + $"""
        PASSPHRASE_FILE={Gpg.PassphraseFilePath}
        BACKUP_MODE=encrypted-stream
        FULL_INTERVAL_DAYS=32
        SERVICES_TO_QUIESCE=()

        """
        + SshOptionsConfig();

    private async Task BackUpFourTimesAsync()
    {
        async Task RunAsync()
        {
            // Snapshot names have one-second resolution: never start two runs in the same second.
            await Task.Delay(1100);
            var run = await ProducerAsync("run", "--config", ConfigFilePath);
            Assert.True(run.ExitCode == 0, run.Stderr);
        }

        await RunAsync();
        await File.WriteAllTextAsync(Path.Combine(RootfsPath, "etc/hostname"), "changed once\n");
        await RunAsync();
        File.Delete(Path.Combine(RootfsPath, "dir with spaces/file $x;'q'.txt"));
        BtrfsLoopFixture.WriteFile(Path.Combine(RootfsPath, "var/new.bin"), RandomNumberGenerator.GetBytes(3_000_000));
        await RunAsync(); // link 3 carries 3 MB of new data: more than the one buffer a restore holds back
        File.Move(Path.Combine(RootfsPath, "var/log/app.log"), Path.Combine(RootfsPath, "var/log/app.log.1"));
        File.CreateSymbolicLink(Path.Combine(RootfsPath, "var/link2"), "new.bin");
        await using (var sparse = File.OpenWrite(Path.Combine(RootfsPath, "var/sparse.img")))
        {
            sparse.Position = 40L * 1024 * 1024;
            sparse.WriteByte((byte)'Y');
        }

        await RunAsync();
        Snapshots = Directory.GetFiles(SetDirPath, "*.manifest").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(4, Snapshots.Count);
    }

    /// <summary>A full and an incremental with COMPRESSION=zstd (prefix prod-srv-zstd, so local snapshots do not mix).</summary>
    private async Task BackUpZstdTwiceAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            await Task.Delay(1100);
            BtrfsLoopFixture.WriteFile(Path.Combine(RootfsPath, $"var/zstd-{i}.txt"), System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"compressible line {i}\n", 50_000))));
            var run = await ProducerAsync("run", "--config", ZstdConfigFilePath);
            Assert.True(run.ExitCode == 0, run.Stderr);
        }

        ZstdSnapshots = Directory.GetFiles(ZstdSetDirPath, "*.manifest").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, ZstdSnapshots.Count);
    }

    private async Task<IReadOnlyList<string>> BackUpExtractSetAsync()
    {
        var root = await Prod.CreateSubvolumeAsync("@extract");
        BtrfsLoopFixture.WriteFile(Path.Combine(root, "etc/hostname"), "hostname inside the snapshot\n"u8.ToArray());
        BtrfsLoopFixture.WriteFile(Path.Combine(root, "docs/sub/deep.txt"), "deep v1\n"u8.ToArray());
        Directory.CreateDirectory(Path.Combine(root, "var"));
        await File.WriteAllTextAsync(ExtractConfigFilePath, Config(ExtractSet, "prod-srv-extract", "last-sent-extract").Replace("SOURCE_SUBVOL=@rootfs", "SOURCE_SUBVOL=@extract", StringComparison.Ordinal));
        async Task RunAsync()
        {
            await Task.Delay(1100);
            var run = await ProducerAsync("run", "--config", ExtractConfigFilePath);
            Assert.True(run.ExitCode == 0, run.Stderr);
        }

        await RunAsync();
        var report = Path.Combine(root, "docs/report.txt");
        BtrfsLoopFixture.WriteFile(report, RandomNumberGenerator.GetBytes(200_000));
        BtrfsLoopFixture.WriteFile(Path.Combine(root, "docs/sub/deep.txt"), "deep v2\n"u8.ToArray());
        File.SetUnixFileMode(report, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        await Run.OutAsync("chown", "1234:5678", report);
        await Run.OutAsync("setfattr", "-n", "user.note", "-v", "kept by extract", report);
        await Run.OutAsync("setfacl", "-m", "u:4321:r", report);
        await Run.OutAsync("ln", report, Path.Combine(root, "docs/report.hardlink"));
        File.CreateSymbolicLink(Path.Combine(root, "docs/rel"), "report.txt");
        File.CreateSymbolicLink(Path.Combine(root, "abs-etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(root, "var/up"), "../..");
        File.SetLastWriteTimeUtc(report, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        await RunAsync();
        var snapshots = Directory.GetFiles(ExtractSetDirPath, "*.manifest").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, snapshots.Count);
        Assert.True(File.Exists(Path.Combine(ExtractSetDirPath, snapshots[1] + ".incr.btrfs.gpg")));
        return snapshots;
    }

    /// <summary>One full in public-key mode: gpg's Ed25519/cv25519 recipient key, and a signing key made by keygen.</summary>
    private async Task BackUpPubkeyOnceAsync()
    {
        await Gpg.GenerateKeyPairAsync("ed25519");
        var keygen = await ProducerAsync("keygen", "--signing-key", SigningKeyFilePath);
        Assert.True(keygen.ExitCode == 0, keygen.Stderr);
        await File.WriteAllTextAsync(PubkeyConfigFilePath, Config(PubkeySet, "prod-srv-pubkey", "last-sent-pubkey").Replace($"PASSPHRASE_FILE={Gpg.PassphraseFilePath}\n", "", StringComparison.Ordinal)
            + $"RECIPIENT_KEY_FILE={Gpg.PublicKeyArmoredFilePath}\nSIGNING_KEY_FILE={SigningKeyFilePath}\nVERIFY_KEY_FILE={SigningKeyFilePath}.pub\n");
        await Task.Delay(1100);
        var run = await ProducerAsync("run", "--config", PubkeyConfigFilePath);
        Assert.True(run.ExitCode == 0, run.Stderr);
        PubkeySnapshot = Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(PubkeySetDirPath, "*.manifest")));
    }

    /// <summary>
    /// Stores <paramref name="streamFilePath"/> under <paramref name="setDirPath"/> as a full of
    /// <paramref name="set"/>/<paramref name="snapshot"/>, with a manifest as a receiver writes it:
    /// what a hostile backup server can list for any set.
    /// </summary>
    public static async Task StoreAsFullAsync(string streamFilePath, string setDirPath, string set, string snapshot, StreamEncryption encryption, StreamCompression compression = StreamCompression.None, string client = "hostile")
    {
        Directory.CreateDirectory(setDirPath);
        var name = SnapshotName.Parse(snapshot);
        var file = Path.Combine(setDirPath, StoredFileName.StreamFileName(name, StreamKind.Full));
        File.Copy(streamFilePath, file);
        byte[] sha;
        await using (var stream = File.OpenRead(file))
        {
            sha = await SHA256.HashDataAsync(stream);
        }

        var manifest = new Manifest
        {
            Set = BackupSet.Parse(set),
            Snapshot = name,
            Kind = StreamKind.Full,
            StreamBytes = new FileInfo(file).Length,
            StreamSha256 = Convert.ToHexStringLower(sha),
            Encryption = encryption,
            Compression = compression,
            SendProto = 1,
            ReceivedAtUtc = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
            Client = client,
        };
        await File.WriteAllTextAsync(Path.Combine(setDirPath, StoredFileName.ManifestFileName(name)), ManifestWriter.Render(manifest));
    }

    /// <summary>The first snapshot again, as stock tools would store it: btrfs send | gpg --symmetric, and a manifest.</summary>
    private async Task MakeSeedStreamAsync()
    {
        SeedSnapshot = Snapshots[0];
        var encrypted = Dir.Sub("seed.btrfs.gpg");
        await (Cli.Wrap("btrfs").WithArguments(["send", "-q", SourceSnapshotPath(SeedSnapshot)])
            | Cli.Wrap("gpg").WithArguments(Gpg.GpgWithPassphrase("--symmetric", "--cipher-algo", "AES256", "--output", encrypted).Skip(1))).ExecuteAsync();
        await StoreAsFullAsync(encrypted, Path.Combine(SeedStoreDirPath, "seed", "gpg"), SeedSet, SeedSnapshot, StreamEncryption.OpenPgpSymmetric, client: "seed");
    }
}

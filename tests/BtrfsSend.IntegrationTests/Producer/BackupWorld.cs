using System.Globalization;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// prod-srv and backup-srv on one machine, nothing bypassed: a loop btrfs with @rootfs, the
/// real receiver behind a private sshd with the production forced command through sudo, a
/// passphrase file, and a prod.conf in the seed's format pointing at all of it.
/// </summary>
internal sealed class BackupWorld : IAsyncDisposable
{
    private BackupWorld(BtrfsLoopFixture prod, TempDir dir, SshdFixture sshd, GpgFixture gpg)
    {
        Prod = prod;
        Dir = dir;
        Sshd = sshd;
        Gpg = gpg;
    }

    public BtrfsLoopFixture Prod { get; }

    public TempDir Dir { get; }

    public SshdFixture Sshd { get; }

    public GpgFixture Gpg { get; }

    public string RootfsPath => Prod.PathOf("@rootfs");

    public string SnapshotDirPath => Prod.PathOf("@backup-snapshots");

    public string StoreDirPath => Dir.Sub("store");

    public string SetDirPath => Path.Combine(StoreDirPath, "prod-srv", "rootfs");

    public string ConfigFilePath => Dir.Sub("prod.conf");

    public string StateFilePath => Dir.Sub("state", "last-sent");

    public string ReceiverConfigFilePath => Dir.Sub("receiver.conf");

    public string FakeBinDirPath => Dir.Sub("fakebin");

    public static async Task<BackupWorld> CreateAsync(string extraConfig = "", string receiverConfig = "")
    {
        var prod = await BtrfsLoopFixture.CreateAsync("prod", 512L * 1024 * 1024);
        var dir = new TempDir("world");
        var rootfs = await prod.CreateSubvolumeAsync("@rootfs");
        BtrfsLoopFixture.PopulateSample(rootfs);
        Directory.CreateDirectory(prod.PathOf("@backup-snapshots"));
        Directory.CreateDirectory(dir.Sub("store"));
        await File.WriteAllTextAsync(dir.Sub("receiver.conf"), $"BACKUP_ROOT={dir.Sub("store")}\nMIN_FREE_SPACE=0\n{receiverConfig}");
        var sshd = await SshdFixture.StartAsync(ProgramBinaries.Receiver, ["--config", dir.Sub("receiver.conf")]);
        var gpg = new GpgFixture();
        var world = new BackupWorld(prod, dir, sshd, gpg);
        await world.WriteConfigAsync(extraConfig);
        Directory.CreateDirectory(world.FakeBinDirPath);
        return world;
    }

    public Task WriteConfigAsync(string extra = "") => File.WriteAllTextAsync(ConfigFilePath, $"""
        # prod.conf as the seed writes it, plus the test's ssh options
        SOURCE_TOP={Prod.MountDirPath}
        SOURCE_SUBVOL=@rootfs
        SNAPSHOT_DIR={SnapshotDirPath}
        SNAPSHOT_PREFIX=prod-srv-rootfs
        STATE_FILE={StateFilePath}
        BACKUP_SSH_TARGET={Sshd.Target}
        BACKUP_SSH_PORT={Sshd.Port.ToString(CultureInfo.InvariantCulture)}
        BACKUP_SSH_IDENTITY_FILE={Sshd.ClientKeyFilePath}
        BACKUP_SET=prod-srv/rootfs
        PASSPHRASE_FILE={Gpg.PassphraseFilePath}
        BACKUP_MODE=encrypted-stream
        FULL_INTERVAL_DAYS=32
        SERVICES_TO_QUIESCE=()
        SSH_OPTIONS=(HostKeyAlias={Sshd.HostKeyAlias} StrictHostKeyChecking=yes UserKnownHostsFile={Sshd.KnownHostsFilePath} GlobalKnownHostsFile=/dev/null)
        {extra}

        """);

    /// <summary>Runs the producer executable (with the fake bin dir first on PATH) and returns exit code, stdout, stderr.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunProducerAsync(params string[] args)
    {
        // Snapshot names have one-second resolution: never start two runs in the same second.
        await Task.Delay(1100);
        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        var result = await Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments(args.Length == 0 ? ["--config", ConfigFilePath] : [.. args, "--config", ConfigFilePath])
            .WithEnvironmentVariables(e => e.Set("PATH", $"{FakeBinDirPath}:{Environment.GetEnvironmentVariable("PATH")}"))
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
        return (result.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The committed stream files of the set, oldest first.</summary>
    public IReadOnlyList<string> StoredStreams() => Directory.Exists(SetDirPath)
        ? Directory.GetFiles(SetDirPath, "*.btrfs.gpg").Order(StringComparer.Ordinal).ToList()
        : [];

    public async ValueTask DisposeAsync()
    {
        await Sshd.DisposeAsync();
        Gpg.Dispose();
        await Prod.DisposeAsync();
        Dir.Dispose();
    }
}

using System.Globalization;
using System.Text;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Support;

/// <summary>
/// prod-srv and backup-srv on one machine, nothing bypassed: prod-srv's loop btrfs with a populated
/// <c>@rootfs</c> and an empty <c>@backup-snapshots</c>, a work directory, and the real receiver
/// behind a private sshd with the production forced command through sudo, configured by
/// receiver.conf (BACKUP_ROOT = the work directory's store/). The worlds of the producer, restore
/// and remote-btrfs tests build on it and add their mode's keys and tools.
/// </summary>
internal abstract class ServerPair : IAsyncDisposable
{
    protected ServerPair((BtrfsLoopFixture Prod, TempDir Dir, SshdFixture Sshd) servers)
    {
        (Prod, Dir, Sshd) = servers;
    }

    public BtrfsLoopFixture Prod { get; }

    public TempDir Dir { get; }

    public SshdFixture Sshd { get; }

    public string RootfsPath => Prod.PathOf("@rootfs");

    public string SnapshotDirPath => Prod.PathOf("@backup-snapshots");

    public string StoreDirPath => Dir.Sub("store");

    public string ConfigFilePath => Dir.Sub("prod.conf");

    public string StateFilePath => Dir.Sub("state", "last-sent");

    public string ReceiverConfigFilePath => Dir.Sub("receiver.conf");

    /// <summary>
    /// Runs the producer with exactly <paramref name="args"/> (through <see cref="Producer"/>) and
    /// returns exit code, stdout, stderr.
    /// </summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> ProducerAsync(params string[] args)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var result = await Producer(args)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
        return (result.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the producer with <paramref name="args"/> (none: a backup run) and the world's prod.conf, never two runs in the same second.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunProducerAsync(params string[] args)
    {
        // Snapshot names have one-second resolution: never start two runs in the same second.
        await Task.Delay(1100);
        return await ProducerAsync(args.Length == 0 ? ["--config", ConfigFilePath] : [.. args, "--config", ConfigFilePath]);
    }

    /// <summary>Starts the producer with the world's prod.conf without waiting (for signals); <paramref name="stderr"/> collects its log.</summary>
    public CommandTask<CommandResult> StartProducer(StringBuilder stderr, params string[] args) =>
        Producer([.. args, "--config", ConfigFilePath])
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();

    /// <summary>The producer executable with exactly <paramref name="args"/>, exit code not validated.</summary>
    public virtual Command Producer(IReadOnlyList<string> args)
        => Cli.Wrap(ProgramBinaries.Producer).WithArguments(args).WithValidation(CommandResultValidation.None);

    public async ValueTask DisposeAsync()
    {
        await Sshd.DisposeAsync();
        await DisposeOwnAsync();
        await Prod.DisposeAsync();
        Dir.Dispose();
    }

    /// <summary>
    /// Starts the two servers: prod-srv's loop btrfs labelled <paramref name="label"/>, the work
    /// directory, and sshd with the receiver, whose receiver.conf gets <paramref name="receiverConfig"/>
    /// after BACKUP_ROOT and MIN_FREE_SPACE=0. <paramref name="launcher"/> is an argv prefix sshd starts under.
    /// </summary>
    protected static async Task<(BtrfsLoopFixture Prod, TempDir Dir, SshdFixture Sshd)> StartAsync(
        string label, long prodBytes, string receiverConfig = "", IReadOnlyList<string>? launcher = null, string? receiverProgram = null)
    {
        var prod = await BtrfsLoopFixture.CreateAsync(label, prodBytes);
        var dir = new TempDir(label.Replace("prod", "world", StringComparison.Ordinal));
        var rootfs = await prod.CreateSubvolumeAsync("@rootfs");
        BtrfsLoopFixture.PopulateSample(rootfs);
        Directory.CreateDirectory(prod.PathOf("@backup-snapshots"));
        Directory.CreateDirectory(dir.Sub("store"));
        await File.WriteAllTextAsync(dir.Sub("receiver.conf"), $"BACKUP_ROOT={dir.Sub("store")}\nMIN_FREE_SPACE=0\n{receiverConfig}");
        var sshd = await SshdFixture.StartAsync(receiverProgram ?? ProgramBinaries.Receiver, ["--config", dir.Sub("receiver.conf")], launcher);
        return (prod, dir, sshd);
    }

    /// <summary>What the world adds beyond the two servers (gpg home, LUKS volume, fakes), disposed after sshd and before prod-srv's btrfs.</summary>
    protected virtual ValueTask DisposeOwnAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// The prod.conf lines every mode shares: the source, the snapshots, the state file, the ssh
    /// target of this world's sshd and the set. The mode's keys follow them.
    /// </summary>
    protected string SourceAndTargetConfig(string set = "prod-srv/rootfs", string prefix = "prod-srv-rootfs", string? stateFilePath = null) => $"""
        SOURCE_TOP={Prod.MountDirPath}
        SOURCE_SUBVOL=@rootfs
        SNAPSHOT_DIR={SnapshotDirPath}
        SNAPSHOT_PREFIX={prefix}
        STATE_FILE={stateFilePath ?? StateFilePath}
        BACKUP_SSH_TARGET={Sshd.Target}
        BACKUP_SSH_PORT={Sshd.Port.ToString(CultureInfo.InvariantCulture)}
        BACKUP_SSH_IDENTITY_FILE={Sshd.ClientKeyFilePath}
        BACKUP_SET={set}

        """;

    /// <summary>The ssh options that pin this world's sshd host key (and no user or global known_hosts).</summary>
    protected string SshOptionsConfig()
        => $"SSH_OPTIONS=(HostKeyAlias={Sshd.HostKeyAlias} StrictHostKeyChecking=yes UserKnownHostsFile={Sshd.KnownHostsFilePath} GlobalKnownHostsFile=/dev/null)\n";
}

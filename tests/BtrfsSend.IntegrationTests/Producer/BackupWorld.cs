using BtrfsSend.IntegrationTests.Support;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// prod-srv and backup-srv on one machine, nothing bypassed: a loop btrfs with @rootfs, the
/// real receiver behind a private sshd with the production forced command through sudo, a
/// passphrase file, and a prod.conf in the format of prod-btrfs-backup.sh pointing at all of it.
/// </summary>
internal sealed class BackupWorld : ServerPair
{
    private BackupWorld((BtrfsLoopFixture Prod, TempDir Dir, SshdFixture Sshd) servers, GpgFixture gpg)
        : base(servers)
    {
        Gpg = gpg;
    }

    public GpgFixture Gpg { get; }

    public string SetDirPath => Path.Combine(StoreDirPath, "prod-srv", "rootfs");

    public string FakeBinDirPath => Dir.Sub("fakebin");

    /// <summary>
    /// Builds the world. <paramref name="launcher"/> is an argv prefix (e.g. <c>nsenter --net=...</c>)
    /// that sshd and every producer run start under, so all of the world's traffic stays in one
    /// private network namespace; empty = the machine's own loopback. <paramref name="receiverProgram"/>
    /// is what the forced command runs through sudo (default the real receiver; e.g. a root-owned
    /// wrapper that execs it under a fake clock).
    /// </summary>
    public static async Task<BackupWorld> CreateAsync(string extraConfig = "", string receiverConfig = "", IReadOnlyList<string>? launcher = null, string? receiverProgram = null)
    {
        var world = new BackupWorld(await StartAsync("prod", 512L * 1024 * 1024, receiverConfig, launcher, receiverProgram), new GpgFixture());
        await world.WriteConfigAsync(extraConfig);
        Directory.CreateDirectory(world.FakeBinDirPath);
        return world;
    }

    /// <summary>Writes prod.conf (or <paramref name="configFilePath"/>); keys in <paramref name="extra"/> override the ones above them.</summary>
    public Task WriteConfigAsync(string extra = "", string? configFilePath = null) => File.WriteAllTextAsync(configFilePath ?? ConfigFilePath,
        "# prod.conf as prod-btrfs-backup.sh's README writes it, plus the test's ssh options\n"
        + SourceAndTargetConfig()
        + $"""
        PASSPHRASE_FILE={Gpg.PassphraseFilePath}
        BACKUP_MODE=encrypted-stream
        FULL_INTERVAL_DAYS=32
        SERVICES_TO_QUIESCE=()

        """
        + SshOptionsConfig()
        + extra + "\n");

    /// <summary>
    /// The producer executable with exactly <paramref name="args"/>, under the world's launcher,
    /// with the fake bin dir first on PATH, exit code not validated. The process ID is the
    /// producer's own (nsenter execs it), so a signal reaches the producer itself.
    /// </summary>
    public override Command Producer(IReadOnlyList<string> args)
    {
        string[] argv = [.. Sshd.Launcher, ProgramBinaries.Producer, .. args];
        return Cli.Wrap(argv[0])
            .WithArguments(argv.Skip(1))
            .WithEnvironmentVariables(e => e.Set("PATH", $"{FakeBinDirPath}:{Environment.GetEnvironmentVariable("PATH")}"))
            .WithValidation(CommandResultValidation.None);
    }

    private FakeSystemctl? _systemctl;

    /// <summary>The fake systemctl's state dir (running/, fail-stop/, fail-start/, slow-stop/, log).</summary>
    public string SystemctlDirPath => Systemctl.StateDirPath;

    /// <summary>The installed fake systemctl (to break its bus, make a stop slow, ...).</summary>
    public FakeSystemctl Systemctl => _systemctl ?? throw new InvalidOperationException("call InstallFakeSystemctl first");

    /// <summary>Installs the shared fake systemctl (this machine has no systemd) into the fake bin dir.</summary>
    public void InstallFakeSystemctl(params string[] running) => _systemctl = new FakeSystemctl(FakeBinDirPath, running);

    public string StoppingMarkerFilePath => Systemctl.StoppingMarkerFilePath;

    /// <summary>"stop a", "start a", ... in the order the fake systemctl saw them.</summary>
    public IReadOnlyList<string> StopsAndStarts() => _systemctl?.StopsAndStarts ?? [];

    public IReadOnlyList<string> RunningServices() => Systemctl.Running;

    /// <summary>
    /// Puts a <c>btrfs</c> wrapper first on the producer's PATH: the real btrfs for everything
    /// but <c>send</c>, whose real output is damaged: "kill" sends half and dies by SIGKILL,
    /// "truncate" sends half and exits 0, "flip" inverts one byte in the middle and exits 0
    /// (btrfs-progs issues 719/1063: send can exit 0 with a bad stream).
    /// </summary>
    public void InstallDamagingBtrfs(string damage)
    {
        var real = Prerequisites.FindOnPath("btrfs") ?? throw new InvalidOperationException("btrfs not found");
        InstallFakeTool("btrfs", $$"""
            #!/bin/sh
            [ "$1" = send ] || exec {{real}} "$@"
            tmp=$(mktemp)
            {{real}} "$@" > "$tmp" || exit $?
            half=$(( $(stat -c %s "$tmp") / 2 ))
            case {{damage}} in
              kill) head -c "$half" "$tmp"; rm -f "$tmp"; kill -KILL $$ ;;
              truncate) head -c "$half" "$tmp"; rm -f "$tmp"; exit 0 ;;
              flip)
                byte=$(dd if="$tmp" bs=1 skip="$half" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
                printf "\\$(printf %03o $(( byte ^ 255 )))" | dd of="$tmp" bs=1 seek="$half" conv=notrunc 2>/dev/null
                cat "$tmp"; rm -f "$tmp"; exit 0 ;;
            esac
            """);
    }

    /// <summary>The dir of the pausing btrfs wrapper (<see cref="InstallPausingBtrfs"/>): armed, paused, release.</summary>
    public string PauseDirPath => Path.Combine(FakeBinDirPath, "pause");

    /// <summary>
    /// Puts a <c>btrfs</c> wrapper first on the producer's PATH that is the real btrfs, except
    /// that the next <c>send</c> after <see cref="ArmPause"/> writes the first half of its real
    /// output, creates <c>paused</c> and waits (at most 60 s) for <c>release</c> before writing the
    /// rest: a transfer held mid-stream, for faults injected while it is in flight.
    /// </summary>
    public void InstallPausingBtrfs()
    {
        var real = Prerequisites.FindOnPath("btrfs") ?? throw new InvalidOperationException("btrfs not found");
        Directory.CreateDirectory(PauseDirPath);
        InstallFakeTool("btrfs", $$"""
            #!/bin/sh
            [ "$1" = send ] || exec {{real}} "$@"
            dir={{PauseDirPath}}
            mv "$dir/armed" "$dir/taken.$$" 2>/dev/null || exec {{real}} "$@"
            tmp="$dir/stream.$$"
            {{real}} "$@" > "$tmp" || { rc=$?; rm -f "$tmp"; exit $rc; }
            half=$(( $(stat -c %s "$tmp") / 2 ))
            head -c "$half" "$tmp"
            touch "$dir/paused"
            i=0
            while [ ! -e "$dir/release" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
            tail -c +$((half + 1)) "$tmp"
            rc=$?
            rm -f "$tmp" "$dir/taken.$$"
            exit $rc
            """);
    }

    /// <summary>Makes the next <c>btrfs send</c> pause halfway (see <see cref="InstallPausingBtrfs"/>).</summary>
    public void ArmPause()
    {
        File.Delete(Path.Combine(PauseDirPath, "paused"));
        File.Delete(Path.Combine(PauseDirPath, "release"));
        File.WriteAllText(Path.Combine(PauseDirPath, "armed"), "");
    }

    public bool IsSendPaused => File.Exists(Path.Combine(PauseDirPath, "paused"));

    /// <summary>Lets a paused <c>btrfs send</c> write the rest of its stream.</summary>
    public void ReleasePause() => File.WriteAllText(Path.Combine(PauseDirPath, "release"), "");

    private void InstallFakeTool(string name, string script)
    {
        var path = Path.Combine(FakeBinDirPath, name);
        File.WriteAllText(path, script + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    /// <summary>The local snapshots' names, oldest first.</summary>
    public IReadOnlyList<string> LocalSnapshotNames() => Directory.GetDirectories(SnapshotDirPath)
        .Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The STATE_FILE's content, or null when missing.</summary>
    public string? State() => File.Exists(StateFilePath) ? File.ReadAllText(StateFilePath) : null;

    /// <summary>Every file under the receiver's store (streams, manifests, temps, locks), relative.</summary>
    public IReadOnlyList<string> StoreFiles() => Directory.GetFiles(StoreDirPath, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(StoreDirPath, f)).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The committed stream files of the set, oldest first.</summary>
    public IReadOnlyList<string> StoredStreams() => Directory.Exists(SetDirPath)
        ? Directory.GetFiles(SetDirPath, "*.btrfs.gpg").Order(StringComparer.Ordinal).ToList()
        : [];

    protected override ValueTask DisposeOwnAsync()
    {
        _systemctl?.Dispose();
        Gpg.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.IntegrationTests.Producer;
using BtrfsSend.IntegrationTests.Restore;
using BtrfsSend.TestSupport;
using CliWrap;
using CliWrap.Buffered;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// One world for the whole fault suite (shared through <see cref="FaultCollection"/>): a
/// <see cref="BackupWorld"/> — prod-srv's loop btrfs, the real receiver behind a private sshd with
/// the production forced command through sudo, prod.conf, the real producer — living inside a
/// private network namespace (<see cref="FaultNetwork"/>), plus a loop btrfs to restore into.
/// The receiver refuses streams over 1 GiB (MAX_STREAM_SIZE=1G). btrfs is wrapped so that a send
/// can be held halfway (<see cref="BackupWorld.InstallPausingBtrfs"/>) while a fault is injected.
/// A full backup is taken when the world is built; every case adds to the same store, so each
/// after-case check re-verifies everything every earlier case left behind.
/// </summary>
internal sealed class FaultWorld : IAsyncDisposable
{
    public const string Set = "prod-srv/rootfs";
    public const string HomeSet = "prod-srv/home";
    public const long MaxStreamSize = 1L << 30;

    private int _changes;
    private bool _verifiedByCli;

    private FaultWorld(FaultNetwork network, BackupWorld world, BtrfsLoopFixture target)
    {
        Network = network;
        World = world;
        Target = target;
    }

    public FaultNetwork Network { get; }

    public BackupWorld World { get; }

    /// <summary>The loop btrfs every after-case restore goes into (a fresh directory each time).</summary>
    public BtrfsLoopFixture Target { get; }

    public int Port => World.Sshd.Port;

    /// <summary>A second backup set, prod-srv/home, from @home (see <see cref="EnsureHomeSetAsync"/>).</summary>
    public string HomeConfigFilePath => World.Dir.Sub("home.conf");

    public string HomeStateFilePath => World.Dir.Sub("state", "home-last-sent");

    public string HomeSnapshotDirPath => World.Prod.PathOf("@home-snapshots");

    public bool HasHomeSet { get; private set; }

    /// <summary>A second prod.conf for the SAME set prod-srv/rootfs, with its own state file and snapshot dir (a misconfigured twin).</summary>
    public string TwinConfigFilePath => World.Dir.Sub("twin.conf");

    public string TwinStateFilePath => World.Dir.Sub("state", "twin-last-sent");

    public static async Task<FaultWorld> CreateAsync()
    {
        var network = await FaultNetwork.CreateAsync();
        BackupWorld? world = null;
        BtrfsLoopFixture? target = null;
        try
        {
            world = await BackupWorld.CreateAsync(receiverConfig: "MAX_STREAM_SIZE=1G\n", launcher: network.Launcher);
            world.InstallPausingBtrfs();
            target = await BtrfsLoopFixture.CreateAsync("frestore", 512L * 1024 * 1024);
            var result = new FaultWorld(network, world, target);
            await result.WriteTwinConfigAsync();
            var first = await world.RunProducerAsync();
            Assert.True(first.ExitCode == 0, "the fault world's first (full) backup failed: " + first.Stderr);
            return result;
        }
        catch
        {
            if (target is not null)
            {
                await target.DisposeAsync();
            }

            if (world is not null)
            {
                await world.DisposeAsync();
            }

            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>Adds 6 MiB of new random data to @rootfs, so that the next send is several BSF1 frames long.</summary>
    public void ChangeSource()
    {
        _changes++;
        BtrfsLoopFixture.WriteFile(Path.Combine(World.RootfsPath, "var", "fault", $"change-{_changes.ToString(CultureInfo.InvariantCulture)}.bin"),
            RandomNumberGenerator.GetBytes(6 * 1024 * 1024));
    }

    /// <summary>Creates @home, its config and its first backup, once.</summary>
    public async Task EnsureHomeSetAsync()
    {
        if (HasHomeSet)
        {
            return;
        }

        var home = await World.Prod.CreateSubvolumeAsync("@home");
        BtrfsLoopFixture.PopulateSample(home, seed: 2);
        Directory.CreateDirectory(HomeSnapshotDirPath);
        await World.WriteConfigAsync($"""
            SOURCE_SUBVOL=@home
            SNAPSHOT_DIR={HomeSnapshotDirPath}
            SNAPSHOT_PREFIX=prod-srv-home
            STATE_FILE={HomeStateFilePath}
            BACKUP_SET={HomeSet}
            """, HomeConfigFilePath);
        var first = await RunAsync(HomeConfigFilePath);
        Assert.True(first.ExitCode == 0, "the first backup of prod-srv/home failed: " + first.Stderr);
        HasHomeSet = true;
    }

    /// <summary>Runs <c>btrfs-send-backup run</c> with the given config (default prod.conf) to its end.</summary>
    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string? configFilePath = null)
    {
        // Snapshot names have one-second resolution: never start two runs in the same second.
        await Task.Delay(1100);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var result = await World.Producer(["run", "--config", configFilePath ?? World.ConfigFilePath])
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
        return (result.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts <c>btrfs-send-backup run</c> without waiting; its log goes to <paramref name="stderr"/>.</summary>
    public async Task<CommandTask<CommandResult>> StartRunAsync(StringBuilder stderr, string? configFilePath = null)
    {
        await Task.Delay(1100);
        return World.Producer(["run", "--config", configFilePath ?? World.ConfigFilePath])
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
    }

    /// <summary>
    /// Arms the pausing btrfs, starts a run and waits (bounded) until its send is held halfway with
    /// at least 512 KiB already in the receiver's temp file: a transfer truly in flight.
    /// </summary>
    public async Task<CommandTask<CommandResult>> StartRunHeldMidTransferAsync(StringBuilder stderr, string set = Set, string? configFilePath = null)
    {
        World.ArmPause();
        var running = await StartRunAsync(stderr, configFilePath);
        for (var i = 0; i < 600; i++)
        {
            if (World.IsSendPaused && TempBytes(set) >= 512 * 1024)
            {
                return running;
            }

            if (running.Task.IsCompleted)
            {
                break;
            }

            await Task.Delay(50);
        }

        World.ReleasePause();
        throw new InvalidOperationException($"the run never got halfway through its transfer (paused: {World.IsSendPaused}, temp bytes: {TempBytes(set)}): {stderr}");
    }

    public string SetDirPath(string set) => Path.Combine(World.StoreDirPath, set);

    /// <summary>The receiver's temp files in the set's directory.</summary>
    public IReadOnlyList<string> TempFiles(string set = Set) => Directory.Exists(SetDirPath(set))
        ? Directory.GetFiles(SetDirPath(set), ".tmp-*")
        : [];

    public long TempBytes(string set = Set) => TempFiles(set).Sum(f => new FileInfo(f).Length);

    /// <summary>PIDs of receiver processes serving this world's receiver config.</summary>
    public IReadOnlyList<int> ReceiverPids() => ProcessTable.Find(argv =>
        argv[0] == World.Sshd.ProgramPath && argv.Count > 1 && argv[1] == "serve" && argv.Contains(World.ReceiverConfigFilePath));

    /// <summary>The producer's ssh client carrying a <c>receive-stream</c> to this world's sshd.</summary>
    public IReadOnlyList<int> ProducerSshPids() => ProcessTable.Find(argv =>
        argv[0] == "ssh" && argv.Contains(World.Sshd.Target) && (argv[^1] == "session" || argv[^1].StartsWith("receive-stream ", StringComparison.Ordinal)));

    /// <summary>Waits (at most 60 s) until no receiver process of this world runs any more.</summary>
    public async Task WaitForReceiversToExitAsync()
    {
        for (var i = 0; i < 1200; i++)
        {
            if (ReceiverPids().Count == 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"receiver processes still running after 60 s: {string.Join(", ", ReceiverPids())}");
    }

    /// <summary>Everything a fault could change, now (a running upload's temp file is listed, not read: the receiver holds it locked).</summary>
    public StoreState Capture()
    {
        var files = Directory.GetFiles(World.StoreDirPath, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != ".lock")
            .ToDictionary(f => Path.GetRelativePath(World.StoreDirPath, f), f => IsTemp(f) ? "(temp file of an upload)" : Sha256Of(f), StringComparer.Ordinal);
        var states = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [Set] = ReadOrNull(World.StateFilePath),
            [HomeSet] = ReadOrNull(HomeStateFilePath),
            ["twin"] = ReadOrNull(TwinStateFilePath),
        };
        var snapshots = World.LocalSnapshotNames()
            .Concat(Directory.Exists(HomeSnapshotDirPath) ? Directory.GetDirectories(HomeSnapshotDirPath).Select(d => "home/" + Path.GetFileName(d)) : [])
            .Concat(Directory.Exists(TwinSnapshotDirPath) ? Directory.GetDirectories(TwinSnapshotDirPath).Select(d => "twin/" + Path.GetFileName(d)) : [])
            .Order(StringComparer.Ordinal).ToList();
        return new StoreState(files, states, snapshots);
    }

    /// <summary>
    /// The case's own check that a failed attempt left no trace: the store holds exactly the files
    /// it held before (no new stream or manifest, no temp file), every state file and every local
    /// snapshot is as it was.
    /// </summary>
    public void AssertNothingChanged(StoreState before)
    {
        var now = Capture();
        Assert.Equal(Lines(before.StoreFiles), Lines(now.StoreFiles));
        Assert.Equal(before.StateFiles, now.StateFiles);
        Assert.Equal(before.LocalSnapshots, now.LocalSnapshots);
    }

    /// <summary>
    /// The shared after-case check. Every stream and manifest that existed before the case is still
    /// there with the same SHA-256; every manifest of every set parses, its stream has the size and
    /// SHA-256 it records, and every stored snapshot's chain reaches a full (Core's
    /// <see cref="ChainResolver"/>); and the real <c>restore --latest</c> over ssh yields a
    /// read-only received subvolume equal, file by file, to the newest local snapshot. The first
    /// check of the world also runs the real <c>verify --all</c> (which decrypts every stream) and
    /// restores into a fresh, empty directory; later ones restore into the same directory, so
    /// only the new links are received. Any failure is a <see cref="DataLostException"/> ("DATA LOST: ...").
    /// </summary>
    public async Task AssertNoDataLostAsync(StoreState before)
    {
        try
        {
            var now = Capture();
            AssertEarlierFilesKept(before, now);
            AssertSetIsWhole(SetDirPath(Set), now, World.StoreDirPath);
            if (HasHomeSet)
            {
                AssertSetIsWhole(SetDirPath(HomeSet), now, World.StoreDirPath);
            }

            if (!_verifiedByCli)
            {
                await VerifyAllAsync(World.ConfigFilePath, Set, now);
                _verifiedByCli = true;
            }

            await AssertRestoreLatestAsync(World, World.ConfigFilePath, Set, World.StateFilePath, World.SnapshotDirPath, Target.PathOf("restore"));
        }
        catch (Exception ex) when (ex is not DataLostException)
        {
            throw new DataLostException(ex.Message, ex);
        }
    }

    /// <summary>
    /// Every file of <paramref name="before"/> but temp files (and those <paramref name="isPrunedByPolicy"/>
    /// says the policy may delete) is in <paramref name="now"/>, with the same SHA-256.
    /// </summary>
    public static void AssertEarlierFilesKept(StoreState before, StoreState now, Func<string, bool>? isPrunedByPolicy = null)
    {
        foreach (var (file, sha) in before.StoreFiles.Where(f => !IsTemp(f.Key) && isPrunedByPolicy?.Invoke(f.Key) != true))
        {
            Assert.True(now.StoreFiles.TryGetValue(file, out var shaNow), $"earlier backup file {file} is gone");
            Assert.True(sha == shaNow, $"earlier backup file {file} changed: SHA-256 {sha} before, {shaNow} now");
        }
    }

    /// <summary>
    /// Every manifest in <paramref name="setDirPath"/> is valid and matches its stream (size, and the
    /// SHA-256 in <paramref name="now"/>, whose keys are relative to <paramref name="capturedDirPath"/>);
    /// no stored snapshot has a broken chain.
    /// </summary>
    public static void AssertSetIsWhole(string setDirPath, StoreState now, string capturedDirPath)
    {
        var links = new List<ChainLink>();
        foreach (var manifestPath in Directory.GetFiles(setDirPath, "*.manifest"))
        {
            var parsed = ManifestReader.Parse(File.ReadAllBytes(manifestPath), manifestPath);
            Assert.True(parsed.IsValid, $"{manifestPath}: {string.Join("; ", parsed.Errors)}");
            var manifest = parsed.Manifest!;
            var stream = Path.Combine(setDirPath, manifest.StreamFile);
            Assert.True(File.Exists(stream), $"{manifestPath} names {manifest.StreamFile}, which is missing");
            Assert.True(new FileInfo(stream).Length == manifest.StreamBytes, $"{stream} is {new FileInfo(stream).Length} bytes, its manifest says {manifest.StreamBytes}");
            var sha = now.StoreFiles[Path.GetRelativePath(capturedDirPath, stream)];
            Assert.True(sha == manifest.StreamSha256, $"{stream} has SHA-256 {sha}, its manifest says {manifest.StreamSha256}");
            Assert.Equal(StreamEncryption.OpenPgpSymmetric, manifest.Encryption);
            links.Add(new ChainLink(manifest.Snapshot.Value, manifest.Kind == StreamKind.Incremental, manifest.Parent?.Value));
        }

        Assert.NotEmpty(links);
        var broken = new ChainResolver(links).BrokenChains();
        Assert.True(broken.Count == 0, $"broken chains in {setDirPath}: {string.Join("; ", broken.Select(b => b.Message))}");
    }

    /// <summary>
    /// The real <c>restore --latest</c> of <paramref name="set"/> over ssh into <paramref name="intoDirPath"/>
    /// gives a received subvolume equal, file by file, to the local snapshot <paramref name="stateFilePath"/> names.
    /// </summary>
    public static async Task AssertRestoreLatestAsync(BackupWorld world, string configFilePath, string set, string stateFilePath, string snapshotDirPath, string intoDirPath)
    {
        var latest = File.ReadAllText(stateFilePath).Trim();
        Directory.CreateDirectory(intoDirPath);
        var restore = await world.Producer(["restore", "--config", configFilePath, "--set", set, "--latest", "--to", intoDirPath]).ExecuteBufferedAsync();
        Assert.True(restore.ExitCode == 0, $"restore --latest of {set} exited {restore.ExitCode}: {restore.StandardError}");
        await RestoreWorld.AssertReceivedCopyOfAsync(Path.Combine(snapshotDirPath, latest), Path.Combine(intoDirPath, latest));
    }

    public static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    /// <summary>The receiver's own <c>btrfs-backup-receive</c> with <paramref name="args"/> and the world's receiver config, as root on backup-srv.</summary>
    public Task<BufferedCommandResult> ReceiverAsync(params string[] args)
        => Cli.Wrap(ProgramBinaries.Receiver).WithArguments([.. args, "--config", World.ReceiverConfigFilePath])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();

    /// <summary><c>btrfs-backup-receive check</c> of the whole store.</summary>
    public Task<BufferedCommandResult> ReceiverCheckAsync() => ReceiverAsync("check");

    /// <summary>
    /// A client with the producer's valid key, talking to the receiver directly through ssh (in the
    /// world's namespace): the command is the whole of SSH_ORIGINAL_COMMAND, stdin written by
    /// <paramref name="writeStdin"/>.
    /// </summary>
    public SshCall StartHostileClient(string command, Func<Stream, CancellationToken, Task>? writeStdin = null)
        => SshCall.Start(World.Sshd, command, writeStdin);

    public async ValueTask DisposeAsync()
    {
        World.ReleasePause();
        await Network.RemoveLimitAsync();
        await Target.DisposeAsync();
        await World.DisposeAsync();
        await Network.DisposeAsync();
    }

    private string TwinSnapshotDirPath => World.Prod.PathOf("@twin-snapshots");

    private Task WriteTwinConfigAsync()
    {
        Directory.CreateDirectory(TwinSnapshotDirPath);
        return World.WriteConfigAsync($"""
            SNAPSHOT_DIR={TwinSnapshotDirPath}
            STATE_FILE={TwinStateFilePath}
            """, TwinConfigFilePath);
    }

    private async Task VerifyAllAsync(string configFilePath, string set, StoreState now)
    {
        var verify = await World.Producer(["verify", "--all", "--config", configFilePath]).ExecuteBufferedAsync();
        var stored = now.Manifests.Count(m => m.StartsWith(set + "/", StringComparison.Ordinal));
        var lines = verify.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(verify.ExitCode == 0, $"verify --all of {set} exited {verify.ExitCode}: {verify.StandardOutput} {verify.StandardError}");
        Assert.True(lines.Length == stored && stored > 0, $"verify --all of {set} reported {lines.Length} streams, the store holds {stored}: {verify.StandardOutput}");
        Assert.True(lines.All(l => l.StartsWith("OK ", StringComparison.Ordinal)), $"verify --all of {set}: {verify.StandardOutput}");
    }

    private static bool IsTemp(string relativePath) => Path.GetFileName(relativePath).StartsWith(".tmp-", StringComparison.Ordinal);

    private static List<string> Lines(IReadOnlyDictionary<string, string> files)
        => files.Select(f => $"{f.Key} {f.Value}").Order(StringComparer.Ordinal).ToList();

    private static string? ReadOrNull(string path) => File.Exists(path) ? File.ReadAllText(path) : null;
}

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
/// A <see cref="BackupWorld"/> whose clocks can jump: the sshd forced command runs, through sudo,
/// a root-owned wrapper that execs the real receiver under libfaketime (Debian's faketime) with
/// the offset the test wrote into a root-owned file (empty = the real clock). libfaketime
/// replaces <c>clock_gettime</c>/<c>time</c> in libc, which is where .NET's DateTime.UtcNow reads
/// the time, so the real receiver behind the real sshd and sudo sees a server clock that jumped.
/// Only CLOCK_REALTIME moves (FAKETIME_DONT_FAKE_MONOTONIC=1), as when an admin or a broken
/// NTP sets the clock. Each case works on a set of its own (<see cref="NewSetAsync"/>).
/// </summary>
internal sealed class ClockWorld : IAsyncDisposable
{
    public const string FakeTime = "/usr/bin/faketime";

    private readonly TempDir _clockDir;
    private int _restores;

    private ClockWorld(TempDir clockDir, BackupWorld world)
    {
        _clockDir = clockDir;
        World = world;
    }

    public BackupWorld World { get; }

    /// <summary>The receiver config with KEEP_WITHIN=1d (and nothing else kept by rule).</summary>
    public string WithinConfigFilePath => World.Dir.Sub("receiver-within.conf");

    /// <summary>The receiver config with KEEP_DAILY=1.</summary>
    public string DailyConfigFilePath => World.Dir.Sub("receiver-daily.conf");

    private string OffsetFilePath => _clockDir.Sub("offset");

    public static async Task<ClockWorld> CreateAsync()
    {
        var clockDir = new TempDir("clock");
        BackupWorld? world = null;
        try
        {
            var wrapper = clockDir.Sub("btrfs-backup-receive-faketime");
            await File.WriteAllTextAsync(clockDir.Sub("offset"), "");
            await File.WriteAllTextAsync(wrapper, $"""
                #!/bin/sh
                # The real receiver, under libfaketime when the test wrote an offset (e.g. +2d) into {clockDir.Sub("offset")}.
                offset=$(cat '{clockDir.Sub("offset")}')
                if [ -n "$offset" ]; then
                  FAKETIME_DONT_FAKE_MONOTONIC=1 exec {FakeTime} -f "$offset" '{ProgramBinaries.Receiver}' "$@"
                fi
                exec '{ProgramBinaries.Receiver}' "$@"

                """);
            File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
            world = await BackupWorld.CreateAsync(receiverProgram: wrapper);
            var receiverConfig = await File.ReadAllTextAsync(world.ReceiverConfigFilePath);
            var result = new ClockWorld(clockDir, world);
            await File.WriteAllTextAsync(result.WithinConfigFilePath, receiverConfig + "\nKEEP_WITHIN=1d\n");
            await File.WriteAllTextAsync(result.DailyConfigFilePath, receiverConfig + "\nKEEP_DAILY=1\n");
            return result;
        }
        catch
        {
            if (world is not null)
            {
                await world.DisposeAsync();
            }

            clockDir.Dispose();
            throw;
        }
    }

    /// <summary>Sets the clock the receiver behind sshd sees from now on: a libfaketime offset such as <c>+2d</c> or <c>-12h</c>, or null for the real clock.</summary>
    public void SetReceiverClock(string? offset) => File.WriteAllText(OffsetFilePath, offset ?? "");

    /// <summary>
    /// A new backup set prod-srv/clock-NAME with two chains on the server: a full, then (the
    /// state file gone, as after a reinstall) a second full and an incremental on it.
    /// </summary>
    public async Task<ClockSet> NewSetAsync(string name)
    {
        var set = new ClockSet("prod-srv/clock-" + name, World.Dir.Sub(name + ".conf"), World.Dir.Sub("state", name + "-last-sent"), World.Prod.PathOf("@" + name + "-snapshots"));
        Directory.CreateDirectory(set.SnapshotDirPath);
        await World.WriteConfigAsync($"""
            SNAPSHOT_DIR={set.SnapshotDirPath}
            SNAPSHOT_PREFIX={name}
            STATE_FILE={set.StateFilePath}
            BACKUP_SET={set.Name}
            """, set.ConfigFilePath);
        for (var i = 0; i < 3; i++)
        {
            if (i == 1)
            {
                File.Delete(set.StateFilePath);
            }

            var run = await RunAsync(set);
            Assert.True(run.ExitCode == 0, $"backup {i + 1} of {set.Name} failed: {run.Stderr}");
        }

        return set;
    }

    /// <summary><c>btrfs-send-backup run</c> of <paramref name="set"/>, under a producer clock moved by <paramref name="producerOffset"/> (null = the real clock).</summary>
    public async Task<(int ExitCode, string Stderr)> RunAsync(ClockSet set, string? producerOffset = null)
    {
        await Task.Delay(1100); // snapshot names have one-second resolution
        string[] argv = producerOffset is null
            ? [ProgramBinaries.Producer, "run", "--config", set.ConfigFilePath]
            : [FakeTime, "-f", producerOffset, ProgramBinaries.Producer, "run", "--config", set.ConfigFilePath];
        var stderr = new StringBuilder();
        var result = await Cli.Wrap(argv[0]).WithArguments(argv.Skip(1))
            .WithEnvironmentVariables(e => e.Set("FAKETIME_DONT_FAKE_MONOTONIC", "1"))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync();
        return (result.ExitCode, stderr.ToString());
    }

    /// <summary>
    /// <c>btrfs-backup-receive ARGS --config CONFIG</c> as root on backup-srv (prune and check
    /// from cron), under the clock <paramref name="offset"/> (null = the real clock).
    /// </summary>
    public Task<BufferedCommandResult> ReceiverAsync(string? offset, string configFilePath, params string[] args)
    {
        string[] argv = offset is null
            ? [ProgramBinaries.Receiver, .. args, "--config", configFilePath]
            : [FakeTime, "-f", offset, ProgramBinaries.Receiver, .. args, "--config", configFilePath];
        return Cli.Wrap(argv[0]).WithArguments(argv.Skip(1))
            .WithEnvironmentVariables(e => e.Set("FAKETIME_DONT_FAKE_MONOTONIC", "1"))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
    }

    public string SetDirPath(ClockSet set) => Path.Combine(World.StoreDirPath, set.Name);

    /// <summary>The set's stored files (name → SHA-256), its state file and its local snapshots.</summary>
    public StoreState Capture(ClockSet set)
    {
        var files = Directory.GetFiles(SetDirPath(set))
            .Where(f => Path.GetFileName(f) != ".lock")
            .ToDictionary(f => Path.GetFileName(f), Sha256Of, StringComparer.Ordinal);
        var states = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [set.Name] = File.Exists(set.StateFilePath) ? File.ReadAllText(set.StateFilePath) : null,
        };
        var snapshots = Directory.GetDirectories(set.SnapshotDirPath).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();
        return new StoreState(files, states, snapshots);
    }

    /// <summary>
    /// "0 data lost" for one set: every stored file of <paramref name="before"/> is still there,
    /// unchanged, except the streams named in <paramref name="prunedByPolicy"/>; every manifest
    /// parses and its stream has the recorded size and SHA-256; no stored chain is broken; and
    /// the real <c>restore --latest</c> over ssh gives a received subvolume equal, file by file, to
    /// the snapshot the producer's state file names. Failures are <see cref="DataLostException"/>s.
    /// </summary>
    public async Task AssertNoDataLostAsync(ClockSet set, StoreState before, params string[] prunedByPolicy)
    {
        try
        {
            var now = Capture(set);
            foreach (var (file, sha) in before.StoreFiles.Where(f => !f.Key.StartsWith(".tmp-", StringComparison.Ordinal)))
            {
                if (prunedByPolicy.Any(p => file.StartsWith(p + ".", StringComparison.Ordinal)))
                {
                    continue;
                }

                Assert.True(now.StoreFiles.TryGetValue(file, out var shaNow), $"earlier backup file {set.Name}/{file} is gone");
                Assert.True(sha == shaNow, $"earlier backup file {set.Name}/{file} changed");
            }

            var links = new List<ChainLink>();
            foreach (var manifestPath in Directory.GetFiles(SetDirPath(set), "*.manifest"))
            {
                var parsed = ManifestReader.Parse(File.ReadAllBytes(manifestPath), manifestPath);
                Assert.True(parsed.IsValid, $"{manifestPath}: {string.Join("; ", parsed.Errors)}");
                var manifest = parsed.Manifest!;
                Assert.True(now.StoreFiles.TryGetValue(manifest.StreamFile, out var sha), $"{manifestPath} names {manifest.StreamFile}, which is missing");
                Assert.True(new FileInfo(Path.Combine(SetDirPath(set), manifest.StreamFile)).Length == manifest.StreamBytes, $"{manifest.StreamFile} does not have its manifest's size");
                Assert.True(sha == manifest.StreamSha256, $"{manifest.StreamFile} does not have its manifest's SHA-256");
                links.Add(new ChainLink(manifest.Snapshot.Value, manifest.Kind == StreamKind.Incremental, manifest.Parent?.Value));
            }

            var broken = new ChainResolver(links).BrokenChains();
            Assert.True(broken.Count == 0, $"broken chains in {set.Name}: {string.Join("; ", broken.Select(b => b.Message))}");

            var latest = File.ReadAllText(set.StateFilePath).Trim();
            var into = World.Prod.PathOf($"restore-{++_restores}");
            Directory.CreateDirectory(into);
            var restore = await World.Producer(["restore", "--config", set.ConfigFilePath, "--set", set.Name, "--latest", "--to", into]).ExecuteBufferedAsync();
            Assert.True(restore.ExitCode == 0, $"restore --latest of {set.Name} exited {restore.ExitCode}: {restore.StandardError}");
            await RestoreWorld.AssertReceivedCopyOfAsync(Path.Combine(set.SnapshotDirPath, latest), Path.Combine(into, latest));
        }
        catch (Exception ex) when (ex is not DataLostException)
        {
            throw new DataLostException(ex.Message, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await World.DisposeAsync();
        _clockDir.Dispose();
    }

    private static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}

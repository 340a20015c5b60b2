using System.Text;
using BtrfsSend.IntegrationTests.Producer;
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
            .ToDictionary(f => Path.GetFileName(f), FaultWorld.Sha256Of, StringComparer.Ordinal);
        var states = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [set.Name] = File.Exists(set.StateFilePath) ? File.ReadAllText(set.StateFilePath) : null,
        };
        var snapshots = Directory.GetDirectories(set.SnapshotDirPath).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList();
        return new StoreState(files, states, snapshots);
    }

    /// <summary>
    /// "0 data lost" for one set, by the fault world's checks: every stored file of
    /// <paramref name="before"/> is still there, unchanged, except the streams named in
    /// <paramref name="prunedByPolicy"/>; every manifest parses and its stream has the recorded size
    /// and SHA-256; no stored chain is broken; and the real <c>restore --latest</c> over ssh gives a
    /// received subvolume equal, file by file, to the snapshot the producer's state file names.
    /// Failures are <see cref="DataLostException"/>s.
    /// </summary>
    public async Task AssertNoDataLostAsync(ClockSet set, StoreState before, params string[] prunedByPolicy)
    {
        try
        {
            var now = Capture(set);
            FaultWorld.AssertEarlierFilesKept(before, now, file => prunedByPolicy.Any(p => file.StartsWith(p + ".", StringComparison.Ordinal)));
            FaultWorld.AssertSetIsWhole(SetDirPath(set), now, SetDirPath(set));
            await FaultWorld.AssertRestoreLatestAsync(World, set.ConfigFilePath, set.Name, set.StateFilePath, set.SnapshotDirPath, World.Prod.PathOf($"restore-{++_restores}"));
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
}

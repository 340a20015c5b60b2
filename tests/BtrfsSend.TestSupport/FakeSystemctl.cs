using BtrfsSend.Core.Processes;

namespace BtrfsSend.TestSupport;

/// <summary>
/// A fake <c>systemctl</c> (this machine runs no systemd): a /bin/sh script in a private bin dir
/// that appends its argv to <see cref="LogFilePath"/> and keeps each unit's state as files:
/// <c>running/UNIT</c> (is-active prints active/inactive as systemctl does, exit 0/3),
/// <c>unknown/UNIT</c> (is-active prints "unknown", exit 4), <c>fail-stop/UNIT</c>,
/// <c>fail-start/UNIT</c>, <c>comes-back/UNIT</c> (stop exits 0 but the unit keeps running, as a
/// socket-activated one may), <c>slow-stop/UNIT</c> (stop touches
/// <see cref="StoppingMarkerFilePath"/> and sleeps 3 s, a window for a test to send a signal; a start of the same unit waits for it, as systemd
/// serializes a unit's jobs), and
/// <c>bus-down/VERB</c> or <c>bus-down/all</c> (systemctl cannot reach systemd: "Failed to
/// connect to bus" on stderr, exit 1, nothing printed). Hooks written with <see cref="WriteHook"/> log into the
/// same file, so the order of everything is visible.
/// </summary>
public sealed class FakeSystemctl : IDisposable
{
    private const string Script = """
        #!/bin/sh
        # fake systemctl for tests: log argv, keep unit state as files
        echo "systemctl $*" >> "$FAKE_DIR/log"
        verb=$1; shift
        quiet=; [ "$1" = "--quiet" ] && { quiet=1; shift; }
        [ "$1" = "--" ] && shift
        unit=$1
        if [ -e "$FAKE_DIR/bus-down/all" ] || [ -e "$FAKE_DIR/bus-down/$verb" ]; then
          echo "Failed to connect to bus: No such file or directory" >&2; exit 1
        fi
        # systemd runs one job per unit at a time: a start waits for a stop in progress.
        case "$verb" in stop|start) exec 9>"$FAKE_DIR/locks/$unit"; flock 9 ;; esac
        case "$verb" in
          is-active)
            if [ -e "$FAKE_DIR/running/$unit" ]; then state=active; rc=0
            elif [ -e "$FAKE_DIR/unknown/$unit" ]; then state=unknown; rc=4
            else state=inactive; rc=3; fi
            [ -z "$quiet" ] && echo "$state"
            exit $rc ;;
          stop)
            if [ -e "$FAKE_DIR/fail-stop/$unit" ]; then echo "Job for $unit failed (fake)" >&2; exit 1; fi
            if [ -e "$FAKE_DIR/slow-stop/$unit" ]; then touch "$FAKE_DIR/stopping"; sleep 3; fi
            [ -e "$FAKE_DIR/comes-back/$unit" ] || rm -f "$FAKE_DIR/running/$unit" ;;
          start)
            if [ -e "$FAKE_DIR/fail-start/$unit" ]; then echo "Job for $unit failed (fake)" >&2; exit 1; fi
            touch "$FAKE_DIR/running/$unit" ;;
          *) echo "fake systemctl: unknown verb $verb" >&2; exit 2 ;;
        esac
        """;

    private readonly TempDir _dir = new("systemctl");

    /// <summary>A fake whose script lives in its own bin dir (<see cref="BinDirPath"/>).</summary>
    public FakeSystemctl(params string[] running)
        : this(null, running)
    {
    }

    /// <summary>A fake whose script is written into <paramref name="binDirPath"/> (a dir already first on someone's PATH).</summary>
    public FakeSystemctl(string? binDirPath, IEnumerable<string> running)
    {
        foreach (var sub in new[] { "bin", "running", "fail-stop", "fail-start", "slow-stop", "unknown", "comes-back", "bus-down", "locks" })
        {
            Directory.CreateDirectory(_dir.Sub(sub));
        }

        BinDirPath = binDirPath ?? _dir.Sub("bin");
        var script = Script.Replace("$FAKE_DIR", _dir.DirPath, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(BinDirPath, "systemctl"), script + "\n");
        File.SetUnixFileMode(Path.Combine(BinDirPath, "systemctl"), (UnixFileMode)0b111_101_101);
        File.WriteAllText(LogFilePath, "");
        foreach (var unit in running)
        {
            File.WriteAllText(_dir.Sub("running", unit), "");
        }
    }

    public string BinDirPath { get; }

    /// <summary>Where the unit state lives (running/, fail-stop/, fail-start/, slow-stop/, log).</summary>
    public string StateDirPath => _dir.DirPath;

    /// <summary>Created by a slow stop when it starts sleeping.</summary>
    public string StoppingMarkerFilePath => _dir.Sub("stopping");

    public string LogFilePath => _dir.Sub("log");

    /// <summary>A runner whose PATH starts with the fake bin dir (the test process's PATH is left alone).</summary>
    public ToolRunner Tools => new(new Dictionary<string, string?>
    {
        ["PATH"] = $"{BinDirPath}:{Environment.GetEnvironmentVariable("PATH")}",
    });

    /// <summary>Every logged line, in order.</summary>
    public IReadOnlyList<string> Log => File.ReadAllLines(LogFilePath);

    /// <summary>Only the stop and start lines, e.g. "stop a", "start a".</summary>
    public IReadOnlyList<string> StopsAndStarts => Log
        .Select(l => l.Split(' '))
        .Where(w => w.Length == 4 && w[0] == "systemctl" && w[1] is "stop" or "start")
        .Select(w => $"{w[1]} {w[3]}")
        .ToList();

    public IReadOnlyList<string> Running => Directory.GetFiles(_dir.Sub("running")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    public void FailStop(string unit) => File.WriteAllText(_dir.Sub("fail-stop", unit), "");

    public void FailStart(string unit) => File.WriteAllText(_dir.Sub("fail-start", unit), "");

    public void SlowStop(string unit) => File.WriteAllText(_dir.Sub("slow-stop", unit), "");

    /// <summary>Makes is-active print "unknown" for <paramref name="unit"/> (older systemd, unit not known).</summary>
    public void Unknown(string unit) => File.WriteAllText(_dir.Sub("unknown", unit), "");

    /// <summary>stop exits 0 but <paramref name="unit"/> keeps running (socket activation, say).</summary>
    public void ComesBack(string unit) => File.WriteAllText(_dir.Sub("comes-back", unit), "");

    /// <summary>
    /// systemctl cannot reach systemd for <paramref name="verbs"/> (none = every verb): it prints
    /// "Failed to connect to bus: ..." on stderr and exits 1, as on a host without a system bus.
    /// </summary>
    public void BreakBus(params string[] verbs)
    {
        foreach (var verb in verbs.Length == 0 ? ["all"] : verbs)
        {
            File.WriteAllText(_dir.Sub("bus-down", verb), "");
        }
    }

    /// <summary>Undoes <see cref="BreakBus"/>.</summary>
    public void RepairBus()
    {
        foreach (var file in Directory.GetFiles(_dir.Sub("bus-down")))
        {
            File.Delete(file);
        }
    }

    /// <summary>Writes an executable hook that logs "hook NAME" and returns its argv.</summary>
    public string[] WriteHook(string name)
    {
        var path = Path.Combine(BinDirPath, name);
        File.WriteAllText(path, $"#!/bin/sh\necho \"hook {name} $*\" >> \"{LogFilePath}\"\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return [path, "--flag"];
    }

    /// <summary>Appends a line to the log (what the snapshot delegate did, when).</summary>
    public void Mark(string text) => File.AppendAllText(LogFilePath, text + "\n");

    public void Dispose() => _dir.Dispose();
}

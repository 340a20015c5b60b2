using System.Diagnostics;
using System.Globalization;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// Wall time of each phase of one run, for the single "run phases" log line that
/// scripts/bench.sh reports (where an incremental's fixed costs go). The first phase is the
/// process's own start-up: from exec to the creation of this object.
/// </summary>
internal sealed class RunPhases
{
    private readonly List<(string Name, TimeSpan Took)> _phases = [];
    private long _mark;

    public RunPhases()
        : this(StartUp())
    {
    }

    internal RunPhases(TimeSpan startUp)
    {
        _phases.Add(("process start-up", startUp < TimeSpan.Zero ? TimeSpan.Zero : startUp));
        _mark = Stopwatch.GetTimestamp();
    }

    /// <summary>Ends the current phase under <paramref name="name"/>; the next one starts now.</summary>
    public void Done(string name)
    {
        var now = Stopwatch.GetTimestamp();
        _phases.Add((name, Stopwatch.GetElapsedTime(_mark, now)));
        _mark = now;
    }

    /// <summary>E.g. <c>process start-up 0.21 s, prerequisites 0.05 s, ...</c>.</summary>
    public string Render()
        => string.Join(", ", _phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Name} {p.Took.TotalSeconds:F2} s")));

    private static TimeSpan StartUp()
    {
        using var self = Process.GetCurrentProcess();
        return DateTime.Now - self.StartTime;
    }
}

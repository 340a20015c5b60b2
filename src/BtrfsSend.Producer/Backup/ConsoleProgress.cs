using System.Globalization;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// rsync --info=progress2-like progress on stderr when it is a terminal; silent otherwise (cron).
/// With an expected size it adds an ETA at the current average rate; when that size is only an
/// estimate (a run's, from the previous stream of its kind: <see cref="PreviousStreamSize"/>) the line
/// says so, and a run without an estimate says that it has none.
/// </summary>
internal sealed class ConsoleProgress : IProgress<long>, IDisposable
{
    /// <summary>What an estimated ETA says about itself.</summary>
    internal const string EstimateNote = "estimated from the previous stream";

    /// <summary>What a run's line says when no earlier stream gives an estimate.</summary>
    internal const string NoEstimateNote = "ETA: no estimate (no previous stream of this kind)";

    private readonly long? _expectedBytes;
    private readonly bool _isEstimate;
    private readonly TextWriter? _output;
    private readonly TimeProvider _clock;
    private readonly long _started;
    private TimeSpan _lastPrint = TimeSpan.FromSeconds(-1);
    private long _bytes;

    /// <param name="expectedBytes">The bytes this transfer will report in the end, or null when unknown.</param>
    /// <param name="isEstimate">True when <paramref name="expectedBytes"/> is the previous stream's size, not this one's (or none was found).</param>
    public ConsoleProgress(long? expectedBytes = null, bool isEstimate = false)
        : this(expectedBytes, isEstimate, Console.IsErrorRedirected ? null : Console.Error, TimeProvider.System)
    {
    }

    /// <param name="output">Where the line goes, or null for no progress at all (stderr is no terminal).</param>
    /// <param name="clock">Elapsed time, through <see cref="TimeProvider.GetTimestamp"/>.</param>
    internal ConsoleProgress(long? expectedBytes, bool isEstimate, TextWriter? output, TimeProvider clock)
    {
        _expectedBytes = expectedBytes;
        _isEstimate = isEstimate;
        _output = output;
        _clock = clock;
        _started = clock.GetTimestamp();
    }

    /// <summary>At most two lines a second: the first report, then one 500 ms after the last line.</summary>
    public void Report(long value)
    {
        _bytes = value;
        var elapsed = _clock.GetElapsedTime(_started);
        if (_output is null || elapsed - _lastPrint < TimeSpan.FromMilliseconds(500))
        {
            return;
        }

        _lastPrint = elapsed;
        _output.Write("\r" + Format(_bytes, elapsed, _expectedBytes, _isEstimate) + "   ");
    }

    /// <summary>The last line, without an ETA, once something was counted.</summary>
    public void Dispose()
    {
        if (_output is not null && _bytes > 0)
        {
            _output.WriteLine("\r" + Format(_bytes, _clock.GetElapsedTime(_started)) + "   ");
        }
    }

    /// <summary>
    /// <c>  1.00 GiB     50.0 MiB/s  0:00:20</c>, then (with <paramref name="expectedBytes"/>, while
    /// bytes are moving) <c>  ETA 0:00:10</c> — or, past an estimate, that the estimate was low —
    /// and for an estimate <c>(estimated from the previous stream)</c>; an estimate that was not found
    /// (<paramref name="isEstimate"/> without <paramref name="expectedBytes"/>) is <see cref="NoEstimateNote"/>.
    /// </summary>
    internal static string Format(long bytes, TimeSpan elapsed, long? expectedBytes = null, bool isEstimate = false)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        var rate = bytes / 1048576.0 / seconds;
        var line = string.Create(CultureInfo.InvariantCulture, $"{HumanBytes(bytes),10}  {rate,7:F1} MiB/s  {Clock(elapsed)}");
        if (bytes <= 0)
        {
            return line;
        }

        if (expectedBytes is not { } expected)
        {
            return isEstimate ? $"{line}  {NoEstimateNote}" : line;
        }

        var note = isEstimate ? $" ({EstimateNote})" : "";
        if (bytes >= expected)
        {
            return isEstimate ? $"{line}  ETA unknown: past the {HumanBytes(expected)}{note}" : $"{line}  ETA 0:00:00";
        }

        var remaining = TimeSpan.FromSeconds(Math.Min((expected - bytes) / (bytes / seconds), TimeSpan.FromDays(365).TotalSeconds));
        return $"{line}  ETA {Clock(remaining)}{note}";
    }

    private static string Clock(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}");

    internal static string HumanBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}

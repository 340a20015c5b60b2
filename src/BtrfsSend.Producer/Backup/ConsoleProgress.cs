using System.Diagnostics;
using System.Globalization;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// rsync --info=progress2-like progress on stderr when it is a terminal; silent otherwise (cron).
/// With an expected size it adds an ETA at the current average rate; when that size is only an
/// estimate (an incremental's, from the previous stream of the set) the line says so.
/// </summary>
/// <param name="expectedBytes">The bytes this transfer will report in the end, or null when unknown (no ETA).</param>
/// <param name="isEstimate">True when <paramref name="expectedBytes"/> is the previous stream's size, not this one's.</param>
internal sealed class ConsoleProgress(long? expectedBytes = null, bool isEstimate = false) : IProgress<long>, IDisposable
{
    /// <summary>What an estimated ETA says about itself.</summary>
    internal const string EstimateNote = "estimated from the previous stream";

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _enabled = !Console.IsErrorRedirected;
    private long _lastPrintMs = -1000;
    private long _bytes;

    public void Report(long value)
    {
        _bytes = value;
        if (!_enabled || _clock.ElapsedMilliseconds - _lastPrintMs < 500)
        {
            return;
        }

        _lastPrintMs = _clock.ElapsedMilliseconds;
        Console.Error.Write("\r" + Format(_bytes, _clock.Elapsed, expectedBytes, isEstimate) + "   ");
    }

    public void Dispose()
    {
        if (_enabled && _bytes > 0)
        {
            Console.Error.WriteLine("\r" + Format(_bytes, _clock.Elapsed) + "   ");
        }
    }

    /// <summary>
    /// <c>  1.00 GiB     50.0 MiB/s  0:00:20</c>, then (with <paramref name="expectedBytes"/>, while
    /// bytes are moving) <c>  ETA 0:00:10</c> — or, past an estimate, that the estimate was low —
    /// and for an estimate <c>(estimated from the previous stream)</c>.
    /// </summary>
    internal static string Format(long bytes, TimeSpan elapsed, long? expectedBytes = null, bool isEstimate = false)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
        var rate = bytes / 1048576.0 / seconds;
        var line = string.Create(CultureInfo.InvariantCulture, $"{HumanBytes(bytes),10}  {rate,7:F1} MiB/s  {Clock(elapsed)}");
        if (expectedBytes is not { } expected || bytes <= 0)
        {
            return line;
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

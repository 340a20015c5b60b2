using System.Diagnostics;
using System.Globalization;

namespace BtrfsSend.Producer.Backup;

/// <summary>rsync --info=progress2-like progress on stderr when it is a terminal; silent otherwise (cron).</summary>
internal sealed class ConsoleProgress : IProgress<long>, IDisposable
{
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
        Console.Error.Write("\r" + Format(_bytes, _clock.Elapsed) + "   ");
    }

    public void Dispose()
    {
        if (_enabled && _bytes > 0)
        {
            Console.Error.WriteLine("\r" + Format(_bytes, _clock.Elapsed) + "   ");
        }
    }

    internal static string Format(long bytes, TimeSpan elapsed)
    {
        var rate = bytes / 1048576.0 / Math.Max(elapsed.TotalSeconds, 1e-3);
        return string.Create(CultureInfo.InvariantCulture, $"{HumanBytes(bytes),10}  {rate,7:F1} MiB/s  {(int)elapsed.TotalHours}:{elapsed.Minutes:00}:{elapsed.Seconds:00}");
    }

    internal static string HumanBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };
}

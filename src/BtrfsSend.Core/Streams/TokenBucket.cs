namespace BtrfsSend.Core.Streams;

/// <summary>
/// BWLIMIT's token bucket: <see cref="BytesPerSecond"/> tokens a second, at most <see cref="Burst"/>
/// saved up, so in any span of time t no more than <c>Burst + BytesPerSecond × t</c> bytes pass.
/// A caller takes at most <see cref="Burst"/> bytes at a time and waits the returned time before
/// moving them. Time comes from the <see cref="TimeProvider"/>, so a test can simulate seconds.
/// Not thread-safe: one bucket per stream.
/// </summary>
public sealed class TokenBucket
{
    /// <summary>The smallest burst: 1 KiB (at the lowest allowed limit, one second's worth).</summary>
    public const int MinBurst = 1024;

    /// <summary>The largest burst: 1 MiB (one pipe buffer).</summary>
    public const int MaxBurst = 1024 * 1024;

    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    /// <param name="bytesPerSecond">The limit, at least 1.</param>
    /// <param name="time">Where "now" comes from.</param>
    public TokenBucket(long bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1);
        ArgumentNullException.ThrowIfNull(time);
        BytesPerSecond = bytesPerSecond;
        _time = time;

        // A twentieth of a second's worth (50 ms), within 1 KiB..1 MiB: small bursts, few wake-ups.
        Burst = (int)Math.Clamp(bytesPerSecond / 20, MinBurst, MaxBurst);
        _tokens = Burst;
        _last = time.GetTimestamp();
    }

    public long BytesPerSecond { get; }

    /// <summary>The most bytes one <see cref="Take"/> may ask for, and the most that pass at once after a pause.</summary>
    public int Burst { get; }

    /// <summary>
    /// Takes <paramref name="bytes"/> (1..<see cref="Burst"/>) from the bucket and returns how long
    /// the caller must wait before moving them (zero when enough tokens were saved up).
    /// </summary>
    public TimeSpan Take(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, Burst);
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_last, now).TotalSeconds;
        _last = now;
        _tokens = Math.Min(Burst, _tokens + elapsed * BytesPerSecond) - bytes;
        return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / BytesPerSecond);
    }
}

namespace BtrfsSend.TestSupport;

/// <summary>
/// A clock the test sets by hand (to run the producer "40 days later", or to age a receiver's
/// lease); the code under test reads the time only through it. Its timestamps follow
/// <see cref="Now"/> too, so elapsed times measured through it (a progress line's) are the test's.
/// </summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => Now.UtcTicks;
}

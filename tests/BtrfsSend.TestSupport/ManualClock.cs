namespace BtrfsSend.TestSupport;

/// <summary>
/// A clock the test sets by hand (to run the producer "40 days later", or to age a receiver's
/// lease); the code under test reads the time only through it.
/// </summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

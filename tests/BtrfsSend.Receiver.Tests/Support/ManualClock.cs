namespace BtrfsSend.Receiver.Tests.Support;

/// <summary>A clock the test sets by hand; nothing in the receiver reads the real time through it.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

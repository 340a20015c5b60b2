namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>A clock that stands still at the time it is given (to run the producer "40 days later").</summary>
internal sealed class ManualClock(DateTimeOffset utcNow) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => utcNow;
}

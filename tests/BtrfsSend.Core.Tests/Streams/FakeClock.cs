namespace BtrfsSend.Core.Tests.Streams;

/// <summary>A clock that only moves when told: GetTimestamp in ticks of 1 ns, advanced by <see cref="Advance"/>.</summary>
internal sealed class FakeClock : TimeProvider
{
    private long _nanoseconds;

    public override long TimestampFrequency => 1_000_000_000;

    public TimeSpan Now => TimeSpan.FromTicks(_nanoseconds / 100);

    public override long GetTimestamp() => _nanoseconds;

    public void Advance(TimeSpan by) => _nanoseconds += by.Ticks * 100;
}

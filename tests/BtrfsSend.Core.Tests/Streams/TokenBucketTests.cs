using BtrfsSend.Core.Streams;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Streams;

public sealed class TokenBucketTests
{
    private const long TwentyMiB = 20L * 1024 * 1024;

    [Theory]
    [InlineData(TwentyMiB, 65536)]
    [InlineData(TwentyMiB, 1024 * 1024)]
    [InlineData(1024L, 1024)]
    [InlineData(100_000L, 333)]
    public void A_sender_that_waits_as_told_moves_the_limit_per_simulated_second_plus_at_most_one_burst(long rate, int chunk)
    {
        var clock = new FakeClock();
        var bucket = new TokenBucket(rate, clock);
        var piece = Math.Min(chunk, bucket.Burst);
        long sent = 0;
        var seconds = 10;
        while (true)
        {
            var wait = bucket.Take(piece);
            clock.Advance(wait);
            if (clock.Now > TimeSpan.FromSeconds(seconds))
            {
                break;
            }

            sent += piece;
        }

        Assert.InRange(sent, rate * seconds - piece, rate * seconds + bucket.Burst);
    }

    [Fact]
    public void Bursts_are_a_twentieth_of_a_second_within_1_KiB_and_1_MiB()
    {
        var clock = new FakeClock();

        Assert.Equal(TwentyMiB / 20, new TokenBucket(TwentyMiB, clock).Burst);
        Assert.Equal(1024, new TokenBucket(1024, clock).Burst);
        Assert.Equal(1024 * 1024, new TokenBucket(1L << 30, clock).Burst);
    }

    [Fact]
    public void An_idle_pause_saves_up_at_most_one_burst()
    {
        var clock = new FakeClock();
        var bucket = new TokenBucket(TwentyMiB, clock);
        clock.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(TimeSpan.Zero, bucket.Take(bucket.Burst));
        var wait = bucket.Take(bucket.Burst);

        Assert.Equal(TimeSpan.FromSeconds(0.05), wait);
    }

    [Property(MaxTest = 200)]
    public Property In_any_simulated_run_no_more_than_rate_times_time_plus_one_burst_passes() =>
        Prop.ForAll(
            Gen.Choose(1024, 50_000_000).ToArbitrary(),
            Gen.Choose(1, 1_000_000).ToArbitrary(),
            Gen.Choose(0, 2_000).ToArbitrary(),
            (rate, size, pauseMs) =>
            {
                var clock = new FakeClock();
                var bucket = new TokenBucket(rate, clock);
                var piece = Math.Min(size, bucket.Burst);
                long sent = 0;
                for (var i = 0; i < 200; i++)
                {
                    clock.Advance(bucket.Take(piece));
                    sent += piece;
                    if (i % 50 == 0)
                    {
                        clock.Advance(TimeSpan.FromMilliseconds(pauseMs));
                    }
                }

                // Slack: each wait is rounded to a 100 ns tick.
                return sent <= rate * clock.Now.TotalSeconds + bucket.Burst + (200.0 * rate / TimeSpan.TicksPerSecond) + 1;
            });
}

using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class ConsoleProgressTests
{
    [Theory]
    [InlineData(0L, 0, "       0 B      0.0 MiB/s  0:00:00")]
    [InlineData(1536L, 90000, "   1.5 KiB      0.0 MiB/s  25:00:00")]
    [InlineData(10485760L, 2, "  10.0 MiB      5.0 MiB/s  0:00:02")]
    [InlineData(3221225472L, 3661, "  3.00 GiB      0.8 MiB/s  1:01:01")]
    public void Format_shows_bytes_rate_and_elapsed_like_rsync_progress2(long bytes, int seconds, string expected)
    {
        Assert.Equal(expected, ConsoleProgress.Format(bytes, TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void A_known_size_adds_the_time_left_at_the_average_rate()
    {
        var line = ConsoleProgress.Format(256L << 20, TimeSpan.FromSeconds(10), 1L << 30);

        Assert.Equal(" 256.0 MiB     25.6 MiB/s  0:00:10  ETA 0:00:30", line);
    }

    [Fact]
    public void An_estimated_size_says_it_is_estimated_from_the_previous_stream()
    {
        var line = ConsoleProgress.Format(10L << 20, TimeSpan.FromSeconds(5), 40L << 20, isEstimate: true);

        Assert.EndsWith("  ETA 0:00:15 (estimated from the previous stream)", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Past_an_estimate_the_ETA_is_unknown_rather_than_zero_or_negative()
    {
        var line = ConsoleProgress.Format(50L << 20, TimeSpan.FromSeconds(5), 40L << 20, isEstimate: true);

        Assert.EndsWith("  ETA unknown: past the 40.0 MiB (estimated from the previous stream)", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1000L)]
    public void Without_a_size_or_before_the_first_byte_there_is_no_ETA(long? expected)
    {
        Assert.DoesNotContain("ETA", ConsoleProgress.Format(0, TimeSpan.FromSeconds(3), expected), StringComparison.Ordinal);
        Assert.DoesNotContain("ETA", ConsoleProgress.Format(500, TimeSpan.FromSeconds(3), null), StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_without_an_estimate_says_it_has_none_rather_than_showing_no_ETA()
    {
        var line = ConsoleProgress.Format(10L << 20, TimeSpan.FromSeconds(5), null, isEstimate: true);

        Assert.Equal("  10.0 MiB      2.0 MiB/s  0:00:05  ETA: no estimate (no previous stream of this kind)", line);
    }

    [Fact]
    public void The_progress_line_on_a_terminal_shows_the_estimated_ETA_at_the_clocks_rate_at_most_twice_a_second()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 7, 2, 0, 0, TimeSpan.Zero));
        var terminal = new StringWriter();
        using (var progress = new ConsoleProgress(40L << 20, isEstimate: true, terminal, clock))
        {
            clock.Now += TimeSpan.FromSeconds(5);
            progress.Report(10L << 20);
            clock.Now += TimeSpan.FromMilliseconds(400);
            progress.Report(11L << 20); // within 500 ms of the last line: not printed
            clock.Now += TimeSpan.FromMilliseconds(600);
            progress.Report(30L << 20);
        }

        var lines = terminal.ToString().Split('\r', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            "  10.0 MiB      2.0 MiB/s  0:00:05  ETA 0:00:15 (estimated from the previous stream)   ",
            "  30.0 MiB      5.0 MiB/s  0:00:06  ETA 0:00:02 (estimated from the previous stream)   ",
            "  30.0 MiB      5.0 MiB/s  0:00:06   \n",
        ], lines);
    }

    [Fact]
    public void Progress_without_a_terminal_writes_nothing()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using var progress = new ConsoleProgress(1000, isEstimate: true, output: null, clock);

        clock.Now += TimeSpan.FromSeconds(1);
        progress.Report(500); // must not throw or print anywhere
    }

    [Theory]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1.0 KiB")]
    [InlineData(1048575L, "1024.0 KiB")]
    [InlineData(1048576L, "1.0 MiB")]
    [InlineData(1073741824L, "1.00 GiB")]
    [InlineData(long.MaxValue, "8589934592.00 GiB")]
    public void Byte_counts_switch_units_at_each_power_of_1024(long bytes, string expected)
    {
        Assert.Equal(expected, ConsoleProgress.HumanBytes(bytes));
    }

    [Property(MaxTest = 300)]
    public Property The_rate_is_always_a_finite_number_even_at_zero_elapsed() =>
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).Select(b => (long)b * 7).ToArbitrary(),
            Gen.Choose(0, 100_000).ToArbitrary(),
            (bytes, ms) =>
            {
                var text = ConsoleProgress.Format(bytes, TimeSpan.FromMilliseconds(ms));
                return !text.Contains("NaN", StringComparison.Ordinal) && !text.Contains('∞', StringComparison.Ordinal) && text.Contains(" MiB/s ", StringComparison.Ordinal);
            });
}

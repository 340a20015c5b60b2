using BtrfsSend.Producer.Backup;
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

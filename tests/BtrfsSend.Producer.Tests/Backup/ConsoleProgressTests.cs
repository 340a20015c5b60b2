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

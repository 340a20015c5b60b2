using BtrfsSend.Hosting;
using Serilog.Events;
using Serilog.Parsing;

namespace BtrfsSend.Core.Tests.Hosting;

public sealed class JournalFormatterTests
{
    private static string Format(LogEventLevel level, string message, Exception? exception = null)
    {
        var logEvent = new LogEvent(DateTimeOffset.UnixEpoch, level, exception, new MessageTemplateParser().Parse(message), []);
        var output = new StringWriter();
        new JournalFormatter().Format(logEvent, output);
        return output.ToString();
    }

    [Theory]
    [InlineData(LogEventLevel.Fatal, "<2>[FTL] x\n")]
    [InlineData(LogEventLevel.Error, "<3>[ERR] x\n")]
    [InlineData(LogEventLevel.Warning, "<4>[WRN] x\n")]
    [InlineData(LogEventLevel.Information, "<6>[INF] x\n")]
    [InlineData(LogEventLevel.Debug, "<7>[DBG] x\n")]
    [InlineData(LogEventLevel.Verbose, "<7>[VRB] x\n")]
    public void Each_level_gets_the_sd_daemon_prefix_journalctl_p_selects_by_and_no_timestamp(LogEventLevel level, string expected)
    {
        Assert.Equal(expected, Format(level, "x"));
    }

    [Fact]
    public void Every_line_of_a_multi_line_event_carries_the_prefix_so_a_stack_trace_stays_an_error()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        var lines = Format(LogEventLevel.Error, "first\nsecond", thrown).Split('\n');

        Assert.Equal("", lines[^1]);
        Assert.True(lines.Length > 4, string.Join('|', lines));
        Assert.All(lines[..^1], l => Assert.StartsWith("<3>", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("boom", StringComparison.Ordinal));
    }
}

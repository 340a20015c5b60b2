using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace BtrfsSend.Hosting;

/// <summary>
/// Formats an event for stderr connected to the journal: every line, a stack trace's included,
/// starts with the event's sd-daemon priority (<c>&lt;3&gt;</c> …), so <c>journalctl -p err</c>
/// shows an error with its details and nothing of lower priority. No timestamp: the journal
/// records its own.
/// </summary>
public sealed class JournalFormatter : ITextFormatter
{
    private readonly MessageTemplateTextFormatter _inner = new(
        "[{Level:u3}] {Message:lj}{NewLine}{Exception}", System.Globalization.CultureInfo.InvariantCulture);

    public void Format(LogEvent logEvent, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        ArgumentNullException.ThrowIfNull(output);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        _inner.Format(logEvent, text);
        var prefix = $"<{JournalPriority.Of(logEvent.Level)}>";
        foreach (var line in text.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n'))
        {
            output.Write(prefix);
            output.Write(line);
            output.Write('\n');
        }
    }
}

using System.Collections.Concurrent;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>A Serilog sink keeping every rendered message, for in-process runs whose log the test reads.</summary>
internal sealed class LogLines : ILogEventSink
{
    private readonly ConcurrentQueue<string> _lines = new();

    public LogLines() => Logger = new LoggerConfiguration().MinimumLevel.Debug().WriteTo.Sink(this).CreateLogger();

    public Logger Logger { get; }

    public string Text => string.Join('\n', _lines);

    public void Emit(LogEvent logEvent) =>
        _lines.Enqueue($"[{logEvent.Level}] {logEvent.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)}");
}

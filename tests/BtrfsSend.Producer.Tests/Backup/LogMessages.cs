using System.Globalization;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace BtrfsSend.Producer.Tests.Backup;

/// <summary>The rendered messages a <see cref="Logger"/> wrote, in order.</summary>
internal sealed class LogMessages : ILogEventSink
{
    public LogMessages() => Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(this).CreateLogger();

    public ILogger Logger { get; }

    public List<string> Lines { get; } = [];

    public void Emit(LogEvent logEvent) => Lines.Add(logEvent.RenderMessage(CultureInfo.InvariantCulture));
}

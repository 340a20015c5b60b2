using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// Log lines to the local syslog socket (<c>/dev/log</c>, which journald also serves), facility
/// daemon: where serve's detail goes when no LOG_FILE is set, because its stderr reaches the
/// client. Best effort: without a syslog socket the lines are dropped.
/// </summary>
internal sealed class SyslogSink(string programName, string socketPath = SyslogSink.DefaultSocketPath) : ILogEventSink, IDisposable
{
    public const string DefaultSocketPath = "/dev/log";

    private const int DaemonFacility = 3;

    private Socket? _socket;
    private bool _unavailable;

    public void Emit(LogEvent logEvent)
    {
        var severity = logEvent.Level switch
        {
            LogEventLevel.Fatal => 2,
            LogEventLevel.Error => 3,
            LogEventLevel.Warning => 4,
            LogEventLevel.Information => 6,
            _ => 7,
        };
        var text = logEvent.RenderMessage(CultureInfo.InvariantCulture);
        if (logEvent.Exception is not null)
        {
            text += " | " + logEvent.Exception.ToString().ReplaceLineEndings(" | ");
        }

        var line = $"<{(DaemonFacility * 8) + severity}>{programName}[{Environment.ProcessId}]: {text}";
        var bytes = Encoding.UTF8.GetBytes(line.Length > 8000 ? line[..8000] : line);
        try
        {
            if (_unavailable)
            {
                return;
            }

            _socket ??= Connect();
            _socket.Send(bytes);
        }
        catch (SocketException)
        {
            _unavailable = true;
        }
    }

    public void Dispose() => _socket?.Dispose();

    private Socket Connect()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

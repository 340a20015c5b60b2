using System.Diagnostics;
using System.Globalization;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// The producer's end of the quiesce guard: started just before the first <c>systemctl stop</c>
/// as this same executable with the hidden verb <c>quiesce-guard --timeout N</c>, in its own
/// session (setsid, so a kill of the producer's process group spares it), stdout and stderr on
/// /dev/null (cron's mail pipe is not held open; it logs to syslog), stdin a pipe whose write end
/// only the producer holds. <see cref="Stopping"/> tells it each unit just before its stop, <see cref="DoneAsync"/>
/// that the producer restarted them itself; if the producer dies first, the pipe's end of input
/// tells the guard to restart them (see <see cref="QuiesceGuard"/>).
/// </summary>
internal sealed class QuiesceGuardProcess : IDisposable
{
    private readonly Process _process;
    private readonly ILogger _log;
    private bool _broken;

    private QuiesceGuardProcess(Process process, ILogger log)
    {
        _process = process;
        _log = log;
    }

    public int ProcessId => _process.Id;

    public static QuiesceGuardProcess Start(TimeSpan timeout, ILogger log)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find this program's executable for the quiesce guard");
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };

        // A constant script; the program path and arguments are its positional parameters.
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec setsid \"$0\" \"$@\" >/dev/null 2>&1");
        info.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            // Started as "dotnet btrfs-send-backup.dll" (never a single-file build, whose
            // Assembly.Location is empty): the dll sits beside the program's other files.
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(QuiesceGuardProcess).Assembly.GetName().Name + ".dll"));
        }

        info.ArgumentList.Add(QuiesceGuard.Verb);
        info.ArgumentList.Add("--timeout");
        info.ArgumentList.Add(((int)Math.Ceiling(timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the quiesce guard");
        process.StandardInput.AutoFlush = true;
        log.Debug("quiesce guard started as pid {Pid}", process.Id);
        return new QuiesceGuardProcess(process, log);
    }

    public void Stopping(string unit) => Send("stop " + unit);

    /// <summary>The window is closed and the producer restarted the units; waits briefly for the guard to exit.</summary>
    public async Task DoneAsync()
    {
        Send("done");
        Close();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _log.Warning("the quiesce guard (pid {Pid}) did not exit after the window closed", _process.Id);
        }
    }

    public void Dispose()
    {
        Close();
        _process.Dispose();
    }

    private void Send(string line)
    {
        if (_broken)
        {
            return;
        }

        try
        {
            _process.StandardInput.WriteLine(line);
        }
        catch (IOException)
        {
            // The guard is gone (it timed out and restarted the units, say); the producer restarts them too.
            _broken = true;
        }
    }

    private void Close()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            _broken = true;
        }
    }
}

using System.Diagnostics;
using System.Globalization;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// strace attached to a running receiver (every thread, <c>-f -p</c>) that delays the exit of its
/// first <c>renameat2</c> by up to 60 s: the receiver's commit renames the stream first, so the
/// receiver is held with the stream in place and no manifest yet. Disposing detaches strace
/// (SIGINT), which lets a still-living receiver go on.
/// </summary>
internal sealed class ReceiverTrace : IAsyncDisposable
{
    private readonly Process _strace;

    private ReceiverTrace(Process strace) => _strace = strace;

    public static async Task<ReceiverTrace> HoldAfterFirstRenameAsync(int pid)
    {
        var start = new ProcessStartInfo("strace")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[] { "-f", "-qq", "-o", "/dev/null", "-e", "trace=renameat2", "-e", "inject=renameat2:delay_exit=60000000:when=1", "-p", pid.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        var strace = Process.Start(start) ?? throw new InvalidOperationException("strace did not start");
        _ = strace.StandardOutput.ReadToEndAsync();
        var errors = strace.StandardError.ReadToEndAsync();
        for (var i = 0; i < 400; i++)
        {
            if (AllThreadsTraced(pid))
            {
                return new ReceiverTrace(strace);
            }

            if (strace.HasExited)
            {
                throw new InvalidOperationException($"strace exited {strace.ExitCode}: {await errors}");
            }

            await Task.Delay(50);
        }

        strace.Kill();
        throw new TimeoutException($"strace did not attach to every thread of {pid} within 20 s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_strace.HasExited)
        {
            // SIGINT makes strace detach cleanly: a held receiver goes on.
            await BtrfsSend.TestSupport.Run.TryAsync("kill", "-INT", _strace.Id.ToString(CultureInfo.InvariantCulture));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _strace.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _strace.Kill();
            }
        }

        _strace.Dispose();
    }

    private static bool AllThreadsTraced(int pid)
    {
        try
        {
            var tasks = Directory.GetDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task");
            return tasks.Length > 0 && tasks.All(t => File.ReadAllLines(Path.Combine(t, "status"))
                .Any(l => l.StartsWith("TracerPid:", StringComparison.Ordinal) && l["TracerPid:".Length..].Trim() != "0"));
        }
        catch (IOException)
        {
            return false;
        }
    }

}

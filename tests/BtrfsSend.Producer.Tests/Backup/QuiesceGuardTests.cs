using System.IO.Pipes;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class QuiesceGuardTests
{
    [Fact]
    public async Task End_of_input_without_done_restarts_exactly_the_reported_units_in_reverse_order()
    {
        using var systemctl = new FakeSystemctl();
        var input = new StringReader("stop a\nstop b\nstop -rf\nstop c;reboot\nnonsense\nstop c\n");

        var restarted = await QuiesceGuard.RunAsync(input, TimeSpan.FromSeconds(30), systemctl.Tools, Serilog.Core.Logger.None);

        Assert.Equal(["c", "b", "a"], restarted);
        Assert.Equal(["start c", "start b", "start a"], systemctl.StopsAndStarts);
        Assert.Equal(["a", "b", "c"], systemctl.Running);
    }

    [Fact]
    public async Task Done_means_the_producer_restarted_them_and_the_guard_starts_nothing()
    {
        using var systemctl = new FakeSystemctl();
        var input = new StringReader("stop a\nstop b\ndone\n");

        var restarted = await QuiesceGuard.RunAsync(input, TimeSpan.FromSeconds(30), systemctl.Tools, Serilog.Core.Logger.None);

        Assert.Empty(restarted);
        Assert.Empty(systemctl.Log);
    }

    [Fact]
    public async Task When_the_deadline_passes_with_the_pipe_still_open_the_reported_units_are_restarted()
    {
        using var systemctl = new FakeSystemctl();
        using var server = new AnonymousPipeServerStream(PipeDirection.Out);
        using var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        using var writer = new StreamWriter(server) { AutoFlush = true };
        await writer.WriteLineAsync("stop a");
        await writer.WriteLineAsync("stop b");

        var started = DateTime.UtcNow;
        var restarted = await QuiesceGuard.RunAsync(new StreamReader(client), TimeSpan.FromSeconds(1), systemctl.Tools, Serilog.Core.Logger.None);

        Assert.Equal(["b", "a"], restarted);
        Assert.Equal(["start b", "start a"], systemctl.StopsAndStarts);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
    }
}

using System.IO.Pipes;
using BtrfsSend.Receiver.Serve;

namespace BtrfsSend.Receiver.Tests.Serve;

/// <summary>The forced command's stdin over a real pipe (what sshd hands the receiver).</summary>
public sealed class StdinStreamTests
{
    [Fact]
    public async Task Everything_written_to_the_pipe_is_read_back_in_order_and_then_EOF_reads_zero()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        var stdin = new StdinStream((int)pipe.ClientSafePipeHandle.DangerousGetHandle());
        var sent = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();

        var writing = Task.Run(() =>
        {
            for (var at = 0; at < sent.Length; at += 4096)
            {
                pipe.Write(sent, at, Math.Min(4096, sent.Length - at));
            }

            pipe.Dispose();
        });
        var received = new MemoryStream();
        var buffer = new byte[70_000];
        int n;
        while ((n = await stdin.ReadAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        await writing;
        Assert.Equal(sent, received.ToArray());
        Assert.Equal(0, stdin.Read(buffer));
    }

    [Fact]
    public async Task A_read_stalled_on_a_silent_client_ends_when_the_token_is_cancelled()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        var stdin = new StdinStream((int)pipe.ClientSafePipeHandle.DangerousGetHandle());
        pipe.Write([1, 2, 3]);
        using var sigterm = new CancellationTokenSource();

        var first = await stdin.ReadAsync(new byte[10], sigterm.Token);
        var stalled = Task.Run(async () => await stdin.ReadAsync(new byte[10], sigterm.Token));
        await sigterm.CancelAsync();

        Assert.Equal(3, first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stalled.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}

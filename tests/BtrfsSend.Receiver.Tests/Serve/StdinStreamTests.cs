using System.IO.Pipes;
using BtrfsSend.Core.Storage;
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

    [Fact]
    public async Task A_pipe_that_holds_more_than_a_read_is_read_back_whole_by_reads_that_fill_the_buffer()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        var stdin = new StdinStream((int)pipe.ClientSafePipeHandle.DangerousGetHandle());
        var sent = Enumerable.Range(0, 50_000).Select(i => (byte)(i * 13)).ToArray();
        pipe.Write(sent);
        pipe.Dispose();

        var received = new MemoryStream();
        var buffer = new byte[1000];
        var full = 0;
        int n;
        while ((n = await stdin.ReadAsync(buffer)) > 0)
        {
            full += n == buffer.Length ? 1 : 0;
            received.Write(buffer, 0, n);
        }

        Assert.True(stdin.IsNonBlocking);
        Assert.Equal(sent, received.ToArray());
        Assert.Equal(50, full);
    }

    [Fact]
    public async Task A_read_after_one_that_filled_the_buffer_still_waits_for_data_and_still_sees_the_token()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        var stdin = new StdinStream((int)pipe.ClientSafePipeHandle.DangerousGetHandle());
        pipe.Write([1, 2, 3, 4]);
        using var sigterm = new CancellationTokenSource();

        // Filled the buffer: the next read goes straight to read(2), finds the pipe empty and must
        // fall back to waiting in poll(2), not block where the token cannot reach it.
        var first = await stdin.ReadAsync(new byte[4], sigterm.Token);
        var stalled = Task.Run(async () => await stdin.ReadAsync(new byte[4], sigterm.Token));
        await Task.Delay(StdinStream.PollIntervalMs / 2);
        await sigterm.CancelAsync();

        Assert.Equal(4, first);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stalled.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Disposing_gives_the_descriptor_back_as_it_was_blocking()
    {
        using var pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        var fd = (int)pipe.ClientSafePipeHandle.DangerousGetHandle();
        var stdin = new StdinStream(fd);
        var during = Native.Fcntl(fd, Native.FGetFl, 0);

        stdin.Dispose();
        var after = Native.Fcntl(fd, Native.FGetFl, 0);

        Assert.NotEqual(0, during & Native.ONonBlock);
        Assert.Equal(0, after & Native.ONonBlock);
    }
}

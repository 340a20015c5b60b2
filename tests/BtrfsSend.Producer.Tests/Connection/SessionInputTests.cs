using System.IO.Pipes;
using BtrfsSend.Producer.Connection;

namespace BtrfsSend.Producer.Tests.Connection;

/// <summary>
/// A session's stdin reports a closed session as one exception type, an IOException, whether the
/// pipe was already disposed (this side closed the session) or broke (the receiver went away).
/// </summary>
public sealed class SessionInputTests
{
    [Fact]
    public async Task A_write_after_the_session_closed_its_stdin_is_a_SessionClosedException()
    {
        var pipe = new MemoryStream();
        var input = new SessionInput(pipe, "backup@backup-srv");
        await pipe.DisposeAsync();

        var ex = await Assert.ThrowsAsync<SessionClosedException>(async () => await input.WriteAsync(new byte[10]));

        Assert.IsAssignableFrom<IOException>(ex);
        Assert.IsType<ObjectDisposedException>(ex.InnerException);
        Assert.Equal("the session with the receiver at backup@backup-srv is closed (its stdin was closed)", ex.Message);
        Assert.Throws<SessionClosedException>(() => input.Write(new byte[1], 0, 1));
    }

    [Fact]
    public async Task A_write_after_the_receiver_went_away_is_the_same_SessionClosedException()
    {
        var server = new AnonymousPipeServerStream(PipeDirection.Out);
        var client = new AnonymousPipeClientStream(PipeDirection.In, server.ClientSafePipeHandle);
        var input = new SessionInput(server, "backup@backup-srv");
        await client.DisposeAsync(); // the reading end is gone: the next write fails with EPIPE
        server.DisposeLocalCopyOfClientHandle();

        var ex = await Assert.ThrowsAsync<SessionClosedException>(async () => await input.WriteAsync(new byte[64 * 1024]));

        Assert.IsAssignableFrom<IOException>(ex.InnerException);
        Assert.StartsWith("the session with the receiver at backup@backup-srv is closed (", ex.Message, StringComparison.Ordinal);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Writes_to_an_open_session_pass_through_unchanged()
    {
        var pipe = new MemoryStream();
        var input = new SessionInput(pipe, "t");

        await input.WriteAsync("hello\n"u8.ToArray());
        await input.FlushAsync();

        Assert.Equal("hello\n"u8.ToArray(), pipe.ToArray());
        Assert.False(input.CanRead);
    }
}

namespace BtrfsSend.Producer.Connection;

/// <summary>
/// ssh's stdin as a session hands it out (request lines, an upload's BSF1 stream): write-only, and
/// every write or flush to a closed session throws <see cref="SessionClosedException"/>, whether the
/// pipe broke (the receiver is gone) or was already disposed (the session's stdin was closed).
/// </summary>
internal sealed class SessionInput(Stream inner, string target) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer) => Guard(buffer, static (stream, span) => stream.Write(span));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => GuardAsync(buffer, static (stream, memory, token) => stream.WriteAsync(memory, token), cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => Guard(0, static (stream, _) => stream.Flush());

    public override Task FlushAsync(CancellationToken cancellationToken)
        => GuardAsync(0, static (stream, _, token) => new ValueTask(stream.FlushAsync(token)), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Runs <paramref name="operation"/> on the inner stream; a broken or closed one throws <see cref="SessionClosedException"/>.</summary>
    private void Guard<TState>(TState state, Action<Stream, TState> operation)
        where TState : allows ref struct
    {
        try
        {
            operation(inner, state);
        }
        catch (Exception ex) when (IsClosed(ex))
        {
            throw Closed(ex);
        }
    }

    /// <summary>The asynchronous <see cref="Guard"/>.</summary>
    private async ValueTask GuardAsync<TState>(TState state, Func<Stream, TState, CancellationToken, ValueTask> operation, CancellationToken cancellationToken)
    {
        try
        {
            await operation(inner, state, cancellationToken);
        }
        catch (Exception ex) when (IsClosed(ex))
        {
            throw Closed(ex);
        }
    }

    private static bool IsClosed(Exception ex) => ex is IOException or ObjectDisposedException;

    private SessionClosedException Closed(Exception ex)
        => new($"the session with the receiver at {target} is closed ({(ex is ObjectDisposedException ? "its stdin was closed" : ex.Message)})", ex);
}

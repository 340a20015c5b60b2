namespace BtrfsSend.TestSupport;

/// <summary>
/// A read-only stream over <paramref name="data"/> that returns at most <paramref name="maxRead"/>
/// bytes per call, the way a pipe or socket hands out data in arbitrary pieces. At the end it
/// returns EOF or, with <paramref name="stallAtEnd"/>, it is a client that went quiet without
/// closing: an asynchronous read blocks until its token is cancelled (<see cref="Stalled"/> tells
/// when the reader got there).
/// </summary>
public sealed class TrickleStream(byte[] data, int maxRead, bool stallAtEnd = false) : Stream
{
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    /// <summary>Completes when the reader has consumed the data and waits for more (only with stallAtEnd).</summary>
    public Task Stalled => _stalled.Task;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (stallAtEnd && _position == data.Length && buffer.Length > 0)
        {
            throw new NotSupportedException("a stalling stream is read asynchronously, with a token that ends the stall");
        }

        var n = Math.Min(Math.Min(buffer.Length, maxRead), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (stallAtEnd && _position == data.Length && buffer.Length > 0)
        {
            _stalled.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return Read(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

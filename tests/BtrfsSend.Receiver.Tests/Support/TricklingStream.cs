namespace BtrfsSend.Receiver.Tests.Support;

/// <summary>
/// stdin of a client that sent <paramref name="prefix"/> and then went quiet without closing: reads
/// return the prefix in small pieces, then block until the read's token is cancelled (the SIGTERM path).
/// </summary>
public sealed class TricklingStream(byte[] prefix, int pieceLength) : Stream
{
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    /// <summary>Completes when the reader has consumed the prefix and is waiting for more.</summary>
    public Task Blocked => _blocked.Task;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("the receiver reads stdin asynchronously");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < prefix.Length)
        {
            var n = Math.Min(Math.Min(pieceLength, buffer.Length), prefix.Length - _position);
            prefix.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return n;
        }

        _blocked.TrySetResult();
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
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

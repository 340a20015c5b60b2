namespace BtrfsSend.Core.Streams;

/// <summary>
/// BWLIMIT: a pass-through that moves at most <see cref="TokenBucket.BytesPerSecond"/> bytes a
/// second in either direction (reads from, or writes to, the inner stream), in pieces of at most
/// <see cref="TokenBucket.Burst"/> bytes, sleeping before each piece the bucket does not cover.
/// Does not own the inner stream (the caller disposes it).
/// </summary>
public sealed class BandwidthLimitedStream : Stream
{
    private readonly Stream _inner;
    private readonly TokenBucket _bucket;
    private readonly TimeProvider _time;

    public BandwidthLimitedStream(Stream inner, TokenBucket bucket, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentNullException.ThrowIfNull(time);
        _inner = inner;
        _bucket = bucket;
        _time = time;
    }

    public override bool CanRead => _inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => _inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary><paramref name="inner"/> limited to <paramref name="bytesPerSecond"/>, or <paramref name="inner"/> itself when that is null (no limit).</summary>
    public static Stream Wrap(Stream inner, long? bytesPerSecond, TimeProvider time)
        => bytesPerSecond is { } rate ? new BandwidthLimitedStream(inner, new TokenBucket(rate, time), time) : inner;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer[..Math.Min(buffer.Length, _bucket.Burst)]);
        if (n > 0 && _bucket.Take(n) is { } wait && wait > TimeSpan.Zero)
        {
            Thread.Sleep(wait);
        }

        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer[..Math.Min(buffer.Length, _bucket.Burst)], cancellationToken);
        if (n > 0 && _bucket.Take(n) is { } wait && wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken);
        }

        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var piece = buffer[..Math.Min(buffer.Length, _bucket.Burst)];
            if (_bucket.Take(piece.Length) is { } wait && wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }

            _inner.Write(piece);
            buffer = buffer[piece.Length..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var piece = buffer[..Math.Min(buffer.Length, _bucket.Burst)];
            if (_bucket.Take(piece.Length) is { } wait && wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken);
            }

            await _inner.WriteAsync(piece, cancellationToken);
            buffer = buffer[piece.Length..];
        }
    }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

using System.Buffers.Binary;
using System.Security.Cryptography;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// Write-only stream that frames everything written to it as BSF1 onto an inner stream.
/// <see cref="CompleteAsync"/> writes the end marker and trailer; disposing without it writes
/// nothing more, so a sender that failed half-way never produces a stream the receiver accepts.
/// After a failed write the writer is faulted and refuses to complete.
/// </summary>
public sealed class Bsf1Writer : Stream
{
    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    // Room for the magic and one length field before the frame's payload, so a frame is one write.
    private readonly byte[] _buffer;
    private readonly int _frameLength;
    private const int PayloadStart = Bsf1.MagicLength + Bsf1.LengthFieldLength;
    private int _filled;
    private bool _magicWritten;
    private bool _faulted;
    private bool _disposed;
    private byte[]? _sha256;

    /// <param name="inner">Where the framed bytes go.</param>
    /// <param name="frameLength">Payload bytes per frame, 1..<see cref="Bsf1.MaxFrameLength"/>.</param>
    /// <param name="leaveOpen">Keep <paramref name="inner"/> open when this writer is disposed.</param>
    public Bsf1Writer(Stream inner, int frameLength = Bsf1.DefaultFrameLength, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(frameLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frameLength, Bsf1.MaxFrameLength);
        _inner = inner;
        _leaveOpen = leaveOpen;
        _frameLength = frameLength;
        _buffer = new byte[PayloadStart + frameLength];
    }

    /// <summary>Payload bytes accepted so far.</summary>
    public long PayloadBytes { get; private set; }

    /// <summary>True once <see cref="CompleteAsync"/> wrote the end marker and trailer.</summary>
    public bool IsComplete => _sha256 is not null;

    /// <summary>The SHA-256 of the payload; only after <see cref="CompleteAsync"/>.</summary>
    public byte[] Sha256 => (byte[])(_sha256 ?? throw new InvalidOperationException("the BSF1 stream is not complete")).Clone();

    /// <summary>The SHA-256 of the payload as lowercase hex, as in an <c>OK</c> line; only after <see cref="CompleteAsync"/>.</summary>
    public string Sha256Hex => Convert.ToHexStringLower(Sha256);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_disposed && !IsComplete;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        CheckWritable();
        while (!buffer.IsEmpty)
        {
            var n = Append(buffer);
            buffer = buffer[n..];
            if (_filled == _frameLength)
            {
                WriteFrame();
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckWritable();
        while (!buffer.IsEmpty)
        {
            var n = Append(buffer.Span);
            buffer = buffer[n..];
            if (_filled == _frameLength)
            {
                await WriteFrameAsync(cancellationToken);
            }
        }
    }

    /// <summary>Sends what is buffered as a (short) frame and flushes the inner stream.</summary>
    public override void Flush()
    {
        if (_disposed || IsComplete || _faulted)
        {
            return;
        }

        if (_filled > 0)
        {
            WriteFrame();
        }

        Guard(_inner.Flush);
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_disposed || IsComplete || _faulted)
        {
            return;
        }

        if (_filled > 0)
        {
            await WriteFrameAsync(cancellationToken);
        }

        await GuardAsync(() => new ValueTask(_inner.FlushAsync(cancellationToken)));
    }

    /// <summary>
    /// Writes the last frame, the end marker and the trailer, and flushes. Call it only once the
    /// whole payload is known good (the source exited 0): this is what makes the receiver commit.
    /// </summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        CheckWritable();
        var frame = _filled > 0 ? TakeFrame() : TakeMagicOnly();
        var hash = _hash.GetHashAndReset();

        // Frame (or magic), end marker and trailer in one write.
        var tail = new byte[frame.Length + Bsf1.LengthFieldLength + Bsf1.TrailerLength];
        frame.Span.CopyTo(tail);
        var end = tail.AsSpan(frame.Length);
        BinaryPrimitives.WriteUInt32BigEndian(end, 0);
        BinaryPrimitives.WriteUInt64BigEndian(end[Bsf1.LengthFieldLength..], (ulong)PayloadBytes);
        hash.CopyTo(end[(Bsf1.LengthFieldLength + 8)..]);

        await GuardAsync(() => _inner.WriteAsync(tail, cancellationToken));
        await GuardAsync(() => new ValueTask(_inner.FlushAsync(cancellationToken)));
        _sha256 = hash;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            // Deliberately no end marker, no trailer, no pending frame: an unfinished stream must
            // look truncated to the receiver.
            _disposed = true;
            _hash.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _hash.Dispose();
            if (!_leaveOpen)
            {
                await _inner.DisposeAsync();
            }
        }

        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private void CheckWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_faulted)
        {
            throw new InvalidOperationException("an earlier write to the BSF1 stream failed; it cannot be continued or completed");
        }

        if (IsComplete)
        {
            throw new InvalidOperationException("the BSF1 stream is already complete");
        }
    }

    private int Append(ReadOnlySpan<byte> source)
    {
        var n = Math.Min(source.Length, _frameLength - _filled);
        var chunk = source[..n];
        chunk.CopyTo(_buffer.AsSpan(PayloadStart + _filled));
        _hash.AppendData(chunk);
        _filled += n;
        PayloadBytes += n;
        return n;
    }

    /// <summary>The buffered payload with its length field (and the magic, the first time) in front; empties the buffer.</summary>
    private ReadOnlyMemory<byte> TakeFrame()
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(Bsf1.MagicLength), (uint)_filled);
        var start = Bsf1.MagicLength;
        if (!_magicWritten)
        {
            Bsf1.Magic.CopyTo(_buffer);
            start = 0;
            _magicWritten = true;
        }

        var frame = _buffer.AsMemory(start, PayloadStart + _filled - start);
        _filled = 0;
        return frame;
    }

    private ReadOnlyMemory<byte> TakeMagicOnly()
    {
        if (_magicWritten)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        Bsf1.Magic.CopyTo(_buffer);
        _magicWritten = true;
        return _buffer.AsMemory(0, Bsf1.MagicLength);
    }

    private void WriteFrame()
    {
        try
        {
            _inner.Write(TakeFrame().Span);
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private async ValueTask WriteFrameAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _inner.WriteAsync(TakeFrame(), cancellationToken);
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private void Guard(Action write)
    {
        try
        {
            write();
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }

    private async ValueTask GuardAsync(Func<ValueTask> write)
    {
        try
        {
            await write();
        }
        catch
        {
            _faulted = true;
            throw;
        }
    }
}

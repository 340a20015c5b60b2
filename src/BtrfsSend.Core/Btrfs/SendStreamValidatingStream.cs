namespace BtrfsSend.Core.Btrfs;

/// <summary>
/// A pass-through stream that validates a btrfs send stream with <see cref="SendStreamValidator"/>
/// as it flows. For writing (producer: <c>btrfs send</c> → this → encryptor) each buffer is
/// validated before it is forwarded, and <see cref="Complete"/> must be called before the
/// downstream stage is finalized: it throws unless END was seen. For reading (restore:
/// decryptor → this → <c>btrfs receive</c>) each buffer read from the inner stream is validated
/// before it is returned, and the inner stream's EOF is reported only if the data ended cleanly
/// after END; otherwise <see cref="SendStreamException"/> is thrown instead of EOF.
/// </summary>
public sealed class SendStreamValidatingStream : Stream
{
    private readonly Stream _inner;
    private readonly bool _isWriter;
    private readonly bool _leaveOpen;

    private SendStreamValidatingStream(Stream inner, bool isWriter, bool allowConcatenatedStreams, bool leaveOpen, int? expectedVersion)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (isWriter ? !inner.CanWrite : !inner.CanRead)
        {
            throw new ArgumentException($"the inner stream must be {(isWriter ? "writable" : "readable")}", nameof(inner));
        }

        _inner = inner;
        _isWriter = isWriter;
        _leaveOpen = leaveOpen;
        Validator = new SendStreamValidator(allowConcatenatedStreams, expectedVersion);
    }

    /// <summary>The validator, for its counters (bytes, commands, streams, version).</summary>
    public SendStreamValidator Validator { get; }

    public override bool CanRead => !_isWriter;

    public override bool CanSeek => false;

    public override bool CanWrite => _isWriter;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Validator.BytesSeen;
        set => throw new NotSupportedException();
    }

    /// <summary>Validates everything written to it, then forwards it to <paramref name="inner"/>.</summary>
    /// <param name="expectedVersion">The declared protocol version (see <see cref="SendStreamValidator.ExpectedVersion"/>).</param>
    public static SendStreamValidatingStream ForWriting(Stream inner, bool allowConcatenatedStreams = false, bool leaveOpen = false, int? expectedVersion = null)
        => new(inner, isWriter: true, allowConcatenatedStreams, leaveOpen, expectedVersion);

    /// <summary>Validates everything read through it from <paramref name="inner"/>.</summary>
    /// <param name="expectedVersion">The declared protocol version (see <see cref="SendStreamValidator.ExpectedVersion"/>).</param>
    public static SendStreamValidatingStream ForReading(Stream inner, bool allowConcatenatedStreams = false, bool leaveOpen = false, int? expectedVersion = null)
        => new(inner, isWriter: false, allowConcatenatedStreams, leaveOpen, expectedVersion);

    /// <summary>Throws <see cref="SendStreamException"/> unless the data so far ended cleanly after END.</summary>
    public void Complete() => Validator.Complete();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureWriter();
        Validator.Feed(buffer);
        _inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureWriter();
        Validator.Feed(buffer.Span);
        return _inner.WriteAsync(buffer, cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        EnsureReader();
        var n = _inner.Read(buffer);
        return Check(buffer[..n], n, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        EnsureReader();
        var n = await _inner.ReadAsync(buffer, cancellationToken);
        return Check(buffer.Span[..n], n, buffer.Length);
    }

    public override void Flush()
    {
        if (_isWriter)
        {
            _inner.Flush();
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken)
        => _isWriter ? _inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_leaveOpen)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Check(ReadOnlySpan<byte> data, int n, int requested)
    {
        if (n == 0 && requested > 0)
        {
            // EOF of the inner stream: only a clean END may look like the end of the stream.
            Validator.Complete();
            return 0;
        }

        Validator.Feed(data);
        return n;
    }

    private void EnsureWriter()
    {
        if (!_isWriter)
        {
            throw new NotSupportedException("this validating stream was created for reading");
        }
    }

    private void EnsureReader()
    {
        if (_isWriter)
        {
            throw new NotSupportedException("this validating stream was created for writing");
        }
    }
}

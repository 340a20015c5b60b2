namespace BtrfsSend.Core.Streams;

/// <summary>
/// A forward-only, read-only stream: everything but reading throws <see cref="NotSupportedException"/>,
/// and the array overload of Read forwards to the span overload, which each stream implements.
/// (The async array overload is deliberately not forwarded here: Stream's default
/// ReadAsync(Memory) calls it, so a stream that overrides neither would recurse.)
/// </summary>
public abstract class ReadOnlyStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public abstract override int Read(Span<byte> buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

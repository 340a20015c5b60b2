using System.Threading.Channels;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Core.Tests.Streams;

/// <summary>
/// A peer for stream wrappers under test: each <see cref="Send"/> is one chunk a read returns,
/// <see cref="End"/> is EOF, and a read with nothing sent waits, observing its token as a pipe
/// read through poll(2) does.
/// </summary>
internal sealed class ChunkChannelStream : ReadOnlyStream
{
    private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>();

    public void Send(params byte[] chunk) => _chunks.Writer.TryWrite(chunk);

    public void End() => _chunks.Writer.TryComplete();

    public override int Read(Span<byte> buffer) => throw new NotSupportedException("read asynchronously, with a token");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!_chunks.Reader.TryRead(out var chunk))
        {
            if (!await _chunks.Reader.WaitToReadAsync(cancellationToken))
            {
                return 0;
            }

            chunk = await _chunks.Reader.ReadAsync(cancellationToken);
        }

        if (chunk.Length > buffer.Length)
        {
            throw new InvalidOperationException("test chunk larger than the read's buffer");
        }

        chunk.CopyTo(buffer);
        return chunk.Length;
    }
}

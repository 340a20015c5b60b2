using BtrfsSend.Core.Streams;
namespace BtrfsSend.Producer.Restore;

/// <summary>
/// A read-only stream that returns <c>prefix</c> and then the rest of <c>inner</c>: how bytes
/// already read to recognise the format (zstd magic) are handed on unchanged.
/// </summary>
internal sealed class PrefixedStream(byte[] prefix, Stream inner) : ReadOnlyStream
{
    private int _prefixUsed;

    public override int Read(Span<byte> buffer)
    {
        if (_prefixUsed < prefix.Length && !buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, prefix.Length - _prefixUsed);
            prefix.AsSpan(_prefixUsed, n).CopyTo(buffer);
            _prefixUsed += n;
            return n;
        }

        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _prefixUsed < prefix.Length && !buffer.IsEmpty
            ? ValueTask.FromResult(Read(buffer.Span))
            : inner.ReadAsync(buffer, cancellationToken);

    /// <summary>Reads up to <paramref name="count"/> bytes from <paramref name="stream"/> (fewer only at EOF).</summary>
    public static async Task<byte[]> ReadPrefixAsync(Stream stream, int count, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[count];
        var filled = 0;
        int n;
        while (filled < count && (n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
        {
            filled += n;
        }

        return buffer[..filled];
    }
}

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Writes one packet body to <c>output</c> as partial chunks of 2^<c>chunkShift</c> bytes
/// (RFC 4880 4.2.2.4) and a final fixed-length chunk on <see cref="Finish"/>. A chunk is sent
/// only once more data follows it, so the final chunk is never empty unless the body is.
/// Until <see cref="Finish"/> the output is an unterminated packet, which every reader rejects.
/// </summary>
internal sealed class PartialBodyWriter(Stream output, int chunkShift)
{
    private readonly byte[] _buffer = new byte[1 << chunkShift];
    private int _count;

    public void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_count == _buffer.Length)
            {
                output.WriteByte((byte)(0xE0 | chunkShift));
                output.Write(_buffer);
                _count = 0;
            }

            var n = Math.Min(data.Length, _buffer.Length - _count);
            data[..n].CopyTo(_buffer.AsSpan(_count));
            _count += n;
            data = data[n..];
        }
    }

    public void Finish()
    {
        output.Write(PacketFormat.EncodeLength(_count));
        output.Write(_buffer, 0, _count);
        _count = 0;
    }

    public void Clear() => Array.Clear(_buffer);
}

using BtrfsSend.Core.Streams;
namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Read-only view of one packet's body: fixed length, partial chunks, or (old format) to the end
/// of <c>input</c>. Returns 0 only at the real end of the body; EOF of <c>input</c> before that
/// throws with <c>onEof</c>.
/// </summary>
internal sealed class PacketBodyStream(Stream input, PacketHeader header, OpenPgpFailure onEof, string what) : ReadOnlyStream
{
    private BodyLengthKind _kind = header.Kind;
    private long _remaining = header.Length;

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_kind == BodyLengthKind.Indeterminate)
        {
            return input.Read(buffer);
        }

        while (_remaining == 0)
        {
            if (_kind != BodyLengthKind.Partial)
            {
                return 0;
            }

            (_kind, _remaining) = PacketFormat.ReadNewLength(input, onEof);
        }

        var n = input.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        if (n == 0)
        {
            throw new OpenPgpException(onEof, $"end of data inside {what}, {_remaining} bytes short of the current chunk");
        }

        _remaining -= n;
        return n;
    }
}

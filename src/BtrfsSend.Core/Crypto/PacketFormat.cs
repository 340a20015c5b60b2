namespace BtrfsSend.Core.Crypto;

/// <summary>Reads and writes OpenPGP packet headers and lengths (RFC 4880 4.2), old and new format.</summary>
internal static class PacketFormat
{
    /// <summary>Reads a packet header; null on a clean EOF before its first byte.</summary>
    public static PacketHeader? TryReadHeader(Stream input, OpenPgpFailure onBadInput, OpenPgpFailure onEof)
    {
        var first = input.ReadByte();
        if (first < 0)
        {
            return null;
        }

        if ((first & 0x80) == 0)
        {
            throw new OpenPgpException(onBadInput, $"byte 0x{first:x2} is not an OpenPGP packet header");
        }

        if ((first & 0x40) != 0)
        {
            var tag = first & 0x3f;
            var (kind, length) = ReadNewLength(input, onEof);
            return new PacketHeader(tag, kind, length);
        }

        var oldTag = (first >> 2) & 0x0f;
        return (first & 3) switch
        {
            0 => new PacketHeader(oldTag, BodyLengthKind.Fixed, ReadByteOrThrow(input, onEof)),
            1 => new PacketHeader(oldTag, BodyLengthKind.Fixed, (ReadByteOrThrow(input, onEof) << 8) | ReadByteOrThrow(input, onEof)),
            2 => new PacketHeader(oldTag, BodyLengthKind.Fixed, ReadUInt32(input, onEof)),
            _ => new PacketHeader(oldTag, BodyLengthKind.Indeterminate, 0),
        };
    }

    /// <summary>Reads a new-format length (also the length of each partial chunk).</summary>
    public static (BodyLengthKind Kind, long Length) ReadNewLength(Stream input, OpenPgpFailure onEof)
    {
        var o = ReadByteOrThrow(input, onEof);
        return o switch
        {
            < 192 => (BodyLengthKind.Fixed, o),
            < 224 => (BodyLengthKind.Fixed, ((o - 192) << 8) + ReadByteOrThrow(input, onEof) + 192),
            < 255 => (BodyLengthKind.Partial, 1L << (o & 0x1f)),
            _ => (BodyLengthKind.Fixed, ReadUInt32(input, onEof)),
        };
    }

    /// <summary>The shortest new-format encoding of a fixed body length.</summary>
    public static byte[] EncodeLength(long length) => length switch
    {
        < 192 => [(byte)length],
        < 8384 => [(byte)(((length - 192) >> 8) + 192), (byte)((length - 192) & 0xff)],
        _ => [0xff, (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length],
    };

    public static void ReadExactly(Stream input, Span<byte> buffer, OpenPgpFailure onEof, string what)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = input.Read(buffer[done..]);
            if (n == 0)
            {
                throw new OpenPgpException(onEof, $"end of data inside {what} ({done} of {buffer.Length} bytes)");
            }

            done += n;
        }
    }

    /// <summary>Reads a whole small fixed-length packet body (session key packets, markers).</summary>
    public static byte[] ReadSmallBody(Stream input, PacketHeader header, int maxLength, string what)
    {
        if (header.Kind != BodyLengthKind.Fixed || header.Length > maxLength)
        {
            throw new OpenPgpException(OpenPgpFailure.Malformed, $"{what} has an invalid length");
        }

        var body = new byte[header.Length];
        ReadExactly(input, body, OpenPgpFailure.Truncated, what);
        return body;
    }

    private static int ReadByteOrThrow(Stream input, OpenPgpFailure onEof)
    {
        var b = input.ReadByte();
        return b >= 0 ? b : throw new OpenPgpException(onEof, "end of data inside a packet header");
    }

    private static long ReadUInt32(Stream input, OpenPgpFailure onEof)
    {
        long v = 0;
        for (var i = 0; i < 4; i++)
        {
            v = (v << 8) | (uint)ReadByteOrThrow(input, onEof);
        }

        return v;
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Tests.Support;

/// <summary>BSF1 input for the receiver: well-formed through <see cref="Bsf1Writer"/>, or broken on purpose by hand.</summary>
public static class Framing
{
    /// <summary>
    /// A payload of <paramref name="length"/> bytes that passes the receiver's first-byte check: an
    /// old-format OpenPGP symmetric-key session-key packet tag (0x8C), then zeros.
    /// </summary>
    public static byte[] Encrypted(int length)
    {
        var payload = new byte[length];
        payload[0] = 0x8C;
        return payload;
    }

    public static byte[] Frame(byte[] payload, int frameLength = Bsf1.DefaultFrameLength)
    {
        using var output = new MemoryStream();
        using (var writer = new Bsf1Writer(output, frameLength, leaveOpen: true))
        {
            writer.Write(payload);
            writer.CompleteAsync().GetAwaiter().GetResult();
        }

        return output.ToArray();
    }

    /// <summary>One frame with the payload, the end marker, then a trailer with the given count and hash.</summary>
    public static byte[] WithTrailer(byte[] payload, ulong count, byte[] sha256)
    {
        using var output = new MemoryStream();
        output.Write(Bsf1.Magic);
        Span<byte> field = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(field, (uint)payload.Length);
        output.Write(field[..4]);
        output.Write(payload);
        BinaryPrimitives.WriteUInt32BigEndian(field, 0);
        output.Write(field[..4]);
        BinaryPrimitives.WriteUInt64BigEndian(field, count);
        output.Write(field);
        output.Write(sha256);
        return output.ToArray();
    }

    public static byte[] Sha256(byte[] bytes) => SHA256.HashData(bytes);

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>Decodes a BSF1 stream fully (throws <see cref="FramingException"/> on any fault).</summary>
    public static byte[] Decode(byte[] framed)
    {
        using var reader = new Bsf1Reader(new MemoryStream(framed));
        using var output = new MemoryStream();
        reader.CopyTo(output);
        return output.ToArray();
    }
}

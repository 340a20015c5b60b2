using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// The one-pass signature and v4 signature packets (RFC 4880 5.2.3, 5.4) of a signed stream:
/// a binary-document signature (type 0x00) over the literal data, SHA-256, EdDSA (Ed25519,
/// algorithm 22), whose hashed area holds the creation time, the issuer fingerprint and the
/// notation <see cref="BindingNotation"/> carrying the stream binding, so the signature covers
/// the binding as well as the data.
/// </summary>
internal static class SignaturePackets
{
    public const int OnePassSignatureTag = 4;
    public const int SignatureTag = 2;
    public const byte BinaryDocument = 0x00;
    public const byte EdDsa = 22;
    public const byte Sha256 = 8;
    public const string BindingNotation = "binding@btrfs-send";

    /// <summary>The whole one-pass signature packet (header included), last (nested flag 1).</summary>
    public static byte[] OnePass(long keyId)
    {
        var packet = new byte[2 + 13];
        packet[0] = 0xC0 | OnePassSignatureTag;
        packet[1] = 13;
        packet[2] = 3;
        packet[3] = BinaryDocument;
        packet[4] = Sha256;
        packet[5] = EdDsa;
        BinaryPrimitives.WriteInt64BigEndian(packet.AsSpan(6), keyId);
        packet[14] = 1;
        return packet;
    }

    /// <summary>The hashed part of the signature: version, type, algorithms and hashed subpackets.</summary>
    public static byte[] HashedPart(DateTimeOffset created, byte[] fingerprint, string binding)
    {
        var area = new List<byte>();
        var time = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(time, (uint)created.ToUnixTimeSeconds());
        Subpacket(area, 2, time);
        Subpacket(area, 33, [4, .. fingerprint]);
        var name = Encoding.ASCII.GetBytes(BindingNotation);
        var value = Encoding.ASCII.GetBytes(binding);
        var notation = new byte[8 + name.Length + value.Length];
        notation[0] = 0x80; // human-readable
        BinaryPrimitives.WriteUInt16BigEndian(notation.AsSpan(4), (ushort)name.Length);
        BinaryPrimitives.WriteUInt16BigEndian(notation.AsSpan(6), (ushort)value.Length);
        name.CopyTo(notation, 8);
        value.CopyTo(notation, 8 + name.Length);
        Subpacket(area, 20, notation);
        return [4, BinaryDocument, EdDsa, Sha256, (byte)(area.Count >> 8), (byte)area.Count, .. area];
    }

    /// <summary>What is hashed after the data and the hashed part: 0x04 0xFF and the hashed part's length.</summary>
    public static byte[] Trailer(int hashedPartLength)
    {
        var trailer = new byte[6];
        trailer[0] = 4;
        trailer[1] = 0xFF;
        BinaryPrimitives.WriteInt32BigEndian(trailer.AsSpan(2), hashedPartLength);
        return trailer;
    }

    /// <summary>The whole signature packet (header included).</summary>
    public static byte[] Signature(byte[] hashedPart, long keyId, byte[] digest, byte[] rs)
    {
        var issuer = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(issuer, keyId);
        var unhashed = new List<byte>();
        Subpacket(unhashed, 16, issuer);
        var body = new List<byte>(hashedPart);
        body.AddRange([(byte)(unhashed.Count >> 8), (byte)unhashed.Count]);
        body.AddRange(unhashed);
        body.AddRange([digest[0], digest[1]]);
        body.AddRange(Mpi(rs.AsSpan(0, 32)));
        body.AddRange(Mpi(rs.AsSpan(32, 32)));
        return [0xC0 | SignatureTag, .. PacketFormat.EncodeLength(body.Count), .. body];
    }

    /// <summary>Parses a one-pass signature body; returns the issuer key ID, or throws naming what is unsupported.</summary>
    public static long ParseOnePass(byte[] body)
    {
        if (body.Length != 13 || body[0] != 3)
        {
            throw new OpenPgpException(OpenPgpFailure.BadSignature, "the one-pass signature packet is not version 3");
        }

        if (body[1] != BinaryDocument || body[2] != Sha256 || body[3] != EdDsa)
        {
            throw new OpenPgpException(OpenPgpFailure.BadSignature, string.Create(CultureInfo.InvariantCulture,
                $"the stream is signed with type {body[1]}, hash {body[2]}, key algorithm {body[3]}; the producer signs binary data with SHA-256 (8) and EdDSA (22)"));
        }

        return BinaryPrimitives.ReadInt64BigEndian(body.AsSpan(4));
    }

    /// <summary>A parsed v4 signature of ours: what is hashed, the digest's first two bytes, R||S and the fields restore checks.</summary>
    public static ParsedSignature ParseSignature(byte[] body)
    {
        static OpenPgpException Bad(string why) => new(OpenPgpFailure.BadSignature, $"the signature packet {why}");

        if (body.Length < 6 || body[0] != 4)
        {
            throw Bad("is not version 4");
        }

        if (body[1] != BinaryDocument || body[2] != EdDsa || body[3] != Sha256)
        {
            throw Bad("is not a SHA-256 EdDSA signature of binary data");
        }

        var hashedLength = (body[4] << 8) | body[5];
        var at = 6 + hashedLength;
        if (body.Length < at + 2)
        {
            throw Bad("is cut short");
        }

        var hashedPart = body[..at];
        byte[]? fingerprint = null;
        string? binding = null;
        foreach (var (type, data) in Subpackets(body.AsSpan(6, hashedLength)))
        {
            switch (type & 0x7F)
            {
                case 33 when data.Length == 21 && data[0] == 4:
                    fingerprint = data[1..];
                    break;
                case 20 when data.Length >= 8:
                    var nameLength = (data[4] << 8) | data[5];
                    var valueLength = (data[6] << 8) | data[7];
                    if (8 + nameLength + valueLength != data.Length)
                    {
                        throw Bad("has a malformed notation");
                    }

                    if (Encoding.ASCII.GetString(data, 8, nameLength) == BindingNotation)
                    {
                        binding = binding is null ? Encoding.Latin1.GetString(data, 8 + nameLength, valueLength) : throw Bad("holds two binding notations");
                    }

                    break;
                default:
                    if ((type & 0x80) != 0 && (type & 0x7F) is not (2 or 33 or 20))
                    {
                        throw Bad(string.Create(CultureInfo.InvariantCulture, $"has an unknown critical subpacket {type & 0x7F}"));
                    }

                    break;
            }
        }

        var unhashedLength = (body[at] << 8) | body[at + 1];
        at += 2 + unhashedLength;
        if (body.Length < at + 2)
        {
            throw Bad("is cut short");
        }

        var left16 = body.AsSpan(at, 2).ToArray();
        at += 2;
        var rs = new byte[64];
        at = ReadMpi(body, at, rs.AsSpan(0, 32), Bad);
        at = ReadMpi(body, at, rs.AsSpan(32, 32), Bad);
        if (at != body.Length)
        {
            throw Bad("has trailing bytes");
        }

        return new ParsedSignature(hashedPart, left16, rs, fingerprint, binding);
    }

    private static List<(int Type, byte[] Data)> Subpackets(ReadOnlySpan<byte> area)
    {
        var result = new List<(int, byte[])>();
        while (!area.IsEmpty)
        {
            int length;
            int skip;
            if (area[0] < 192)
            {
                (length, skip) = (area[0], 1);
            }
            else if (area[0] < 255 && area.Length >= 2)
            {
                (length, skip) = (((area[0] - 192) << 8) + area[1] + 192, 2);
            }
            else if (area.Length >= 5)
            {
                (length, skip) = ((int)BinaryPrimitives.ReadUInt32BigEndian(area[1..]), 5);
            }
            else
            {
                throw new OpenPgpException(OpenPgpFailure.BadSignature, "the signature packet has a malformed subpacket length");
            }

            if (length < 1 || length > area.Length - skip)
            {
                throw new OpenPgpException(OpenPgpFailure.BadSignature, "the signature packet has a subpacket longer than its area");
            }

            result.Add((area[skip], area.Slice(skip + 1, length - 1).ToArray()));
            area = area[(skip + length)..];
        }

        return result;
    }

    private static int ReadMpi(byte[] body, int at, Span<byte> into32, Func<string, OpenPgpException> bad)
    {
        if (body.Length < at + 2)
        {
            throw bad("is cut short");
        }

        var bits = (body[at] << 8) | body[at + 1];
        var bytes = (bits + 7) / 8;
        if (bytes > 32 || body.Length < at + 2 + bytes)
        {
            throw bad("has a malformed EdDSA value");
        }

        body.AsSpan(at + 2, bytes).CopyTo(into32[(32 - bytes)..]);
        return at + 2 + bytes;
    }

    private static void Subpacket(List<byte> area, byte type, byte[] data)
    {
        area.AddRange(PacketFormat.EncodeLength(data.Length + 1));
        area.Add(type);
        area.AddRange(data);
    }

    private static byte[] Mpi(ReadOnlySpan<byte> value)
    {
        var skip = 0;
        while (skip < value.Length - 1 && value[skip] == 0)
        {
            skip++;
        }

        var trimmed = value[skip..];
        var bits = ((trimmed.Length - 1) * 8) + (8 - System.Numerics.BitOperations.LeadingZeroCount((uint)trimmed[0]) + 24);
        return [(byte)(bits >> 8), (byte)bits, .. trimmed];
    }
}

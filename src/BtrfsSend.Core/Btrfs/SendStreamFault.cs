namespace BtrfsSend.Core.Btrfs;

/// <summary>Why a btrfs send stream was refused by <see cref="SendStreamValidator"/>.</summary>
public enum SendStreamFault
{
    /// <summary>The stream does not start with <c>btrfs-stream\0</c>.</summary>
    BadMagic,

    /// <summary>The header names a protocol version this tool does not accept.</summary>
    UnsupportedVersion,

    /// <summary>The header's protocol version is not the one declared for this stream (<c>send_proto</c>).</summary>
    VersionMismatch,

    /// <summary>A command's stored CRC32C does not match its header and payload.</summary>
    CrcMismatch,

    /// <summary>A command type that does not exist in the stream's protocol version.</summary>
    UnknownCommand,

    /// <summary>A command claims a payload longer than <see cref="SendStreamValidator.MaxCommandLength"/>.</summary>
    OversizeCommand,

    /// <summary>The data ended before a clean END command (empty, mid-header, mid-command, or no END).</summary>
    Truncated,

    /// <summary>Bytes follow the END command where exactly one stream was expected.</summary>
    TrailingData,
}

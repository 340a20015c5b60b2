namespace BtrfsSend.Core.Protocol;

/// <summary>
/// The BSF1 framing constants (docs/protocol.md): magic <c>BSF1</c>; frames of a
/// uint32 big-endian length 1..<see cref="MaxFrameLength"/> and that many payload bytes; an end
/// marker uint32 0; a trailer of the uint64 big-endian payload byte count and the SHA-256 of the payload.
/// </summary>
public static class Bsf1
{
    public const int MaxFrameLength = 16 * 1024 * 1024;
    public const int DefaultFrameLength = 1024 * 1024;
    public const int MagicLength = 4;
    public const int LengthFieldLength = 4;
    public const int TrailerLength = 8 + 32;

    /// <summary>"BSF1" in ASCII.</summary>
    public static ReadOnlySpan<byte> Magic => "BSF1"u8;
}

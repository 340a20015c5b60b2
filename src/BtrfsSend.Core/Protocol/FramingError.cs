namespace BtrfsSend.Core.Protocol;

/// <summary>What was wrong with a BSF1 stream.</summary>
public enum FramingError
{
    /// <summary>The first four bytes are not <c>BSF1</c>.</summary>
    BadMagic,

    /// <summary>A frame length is larger than <see cref="Bsf1.MaxFrameLength"/>.</summary>
    OversizeFrame,

    /// <summary>The input ended before the trailer was complete: the sender died or the connection was cut.</summary>
    Truncated,

    /// <summary>The trailer's byte count differs from the payload received.</summary>
    CountMismatch,

    /// <summary>The trailer's SHA-256 differs from that of the payload received.</summary>
    HashMismatch,

    /// <summary>Bytes follow the trailer.</summary>
    TrailingBytes,

    /// <summary>The payload is larger than the reader's limit.</summary>
    TooLarge,
}

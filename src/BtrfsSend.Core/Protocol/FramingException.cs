using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// A BSF1 stream was refused. <see cref="Offset"/> is the byte offset in the framed input where
/// the problem was found (for <see cref="FramingError.Truncated"/>: where the input ended).
/// Nothing read from such a stream may be committed.
/// </summary>
public sealed class FramingException(FramingError error, long offset, string message)
    : BtrfsSendException(message)
{
    public FramingError Error { get; } = error;

    public long Offset { get; } = offset;

    /// <summary>A cut connection is a failed transfer; a refused size is a refusal; everything else is an integrity failure.</summary>
    public override ExitCode ExitCode => Error switch
    {
        FramingError.Truncated => ExitCode.TransferFailed,
        FramingError.TooLarge => ExitCode.Refused,
        _ => ExitCode.IntegrityFailed,
    };

    /// <summary>The <see cref="ErrorCodes"/> code the receiver answers with.</summary>
    public string ErrorCode => Error switch
    {
        FramingError.Truncated => ErrorCodes.Truncated,
        FramingError.TooLarge => ErrorCodes.TooLarge,
        FramingError.CountMismatch => ErrorCodes.BadTrailer,
        FramingError.HashMismatch => ErrorCodes.HashMismatch,
        _ => ErrorCodes.BadFrame,
    };
}

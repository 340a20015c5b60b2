using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Btrfs;

/// <summary>
/// A btrfs send stream failed validation. It derives from <see cref="BtrfsSendException"/> (not
/// from the sealed <see cref="IntegrityException"/>) and maps to the same exit code,
/// <see cref="ExitCode.IntegrityFailed"/>: the stream must not be committed or received.
/// </summary>
public sealed class SendStreamException : BtrfsSendException
{
    internal SendStreamException(SendStreamFault fault, long offset, string message)
        : base(message)
    {
        Fault = fault;
        Offset = offset;
    }

    /// <summary>What was wrong.</summary>
    public SendStreamFault Fault { get; }

    /// <summary>The byte offset (from the first byte validated) where the fault was found.</summary>
    public long Offset { get; }

    public override ExitCode ExitCode => ExitCode.IntegrityFailed;
}

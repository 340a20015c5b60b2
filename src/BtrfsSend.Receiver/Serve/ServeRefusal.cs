using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve;

/// <summary>A refusal or failure of a serve verb: answered as <c>ERR &lt;code&gt; &lt;message&gt;</c> with a distinct exit code.</summary>
internal sealed class ServeRefusal(string code, string message, Exception? innerException = null)
    : BtrfsSendException(message, innerException)
{
    public string Code { get; } = code;

    public override ExitCode ExitCode => ExitCodeFor(Code);

    /// <summary>The exit code each ERR code maps to (docs/protocol.md §4).</summary>
    public static ExitCode ExitCodeFor(string code) => code switch
    {
        ErrorCodes.Busy => ExitCode.LockHeld,
        ErrorCodes.Truncated or ErrorCodes.IdleTimeout => ExitCode.TransferFailed,
        ErrorCodes.BadFrame or ErrorCodes.BadTrailer or ErrorCodes.HashMismatch => ExitCode.IntegrityFailed,
        ErrorCodes.NoSpace or ErrorCodes.IoError or ErrorCodes.StoreUnusable => ExitCode.StorageFailed,
        ErrorCodes.Internal => ExitCode.InternalError,
        _ => ExitCode.Refused,
    };
}

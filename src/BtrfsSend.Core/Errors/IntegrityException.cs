namespace BtrfsSend.Core.Errors;

/// <summary>Data did not match what it claims to be (hash, size, MDC, CRC, trailer).</summary>
public sealed class IntegrityException(string message, Exception? innerException = null)
    : BtrfsSendException(message, innerException)
{
    public override ExitCode ExitCode => ExitCode.IntegrityFailed;
}

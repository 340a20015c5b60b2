namespace BtrfsSend.Core.Errors;

/// <summary>A transfer failed or was cut before it was complete.</summary>
public sealed class TransferFailedException(string message, Exception? innerException = null)
    : BtrfsSendException(message, innerException)
{
    public override ExitCode ExitCode => ExitCode.TransferFailed;
}

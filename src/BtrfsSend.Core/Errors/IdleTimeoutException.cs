namespace BtrfsSend.Core.Errors;

/// <summary>The other end sent nothing for longer than the idle timeout: the transfer is abandoned.</summary>
public sealed class IdleTimeoutException(string message) : BtrfsSendException(message)
{
    public override ExitCode ExitCode => ExitCode.TransferFailed;
}

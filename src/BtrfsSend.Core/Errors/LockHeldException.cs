namespace BtrfsSend.Core.Errors;

/// <summary>Another run holds the lock.</summary>
public sealed class LockHeldException(string message) : BtrfsSendException(message)
{
    public override ExitCode ExitCode => ExitCode.LockHeld;
}

using BtrfsSend.Core.Errors;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// One link of a chain failed. The message names the link and the reason; the exit code is the
/// underlying failure's (integrity 8 for a wrong passphrase, tampering or truncation; tool 11 for
/// a btrfs receive error; ...).
/// </summary>
internal sealed class RestoreLinkException(string message, BtrfsSendException innerException)
    : BtrfsSendException(message, innerException)
{
    public override ExitCode ExitCode => ((BtrfsSendException)InnerException!).ExitCode;
}

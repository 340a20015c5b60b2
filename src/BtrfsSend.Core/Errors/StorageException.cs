namespace BtrfsSend.Core.Errors;

/// <summary>Local storage failed (disk full, I/O error).</summary>
public sealed class StorageException(string message, Exception? innerException = null)
    : BtrfsSendException(message, innerException)
{
    public override ExitCode ExitCode => ExitCode.StorageFailed;
}

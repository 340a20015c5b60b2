namespace BtrfsSend.Core.Errors;

/// <summary>A required tool, file or mount is missing or unusable.</summary>
public sealed class PrerequisiteException(string message, Exception? innerException = null)
    : BtrfsSendException(message, innerException)
{
    public override ExitCode ExitCode => ExitCode.Prerequisite;
}

namespace BtrfsSend.Core.Errors;

/// <summary>
/// The one base for every expected failure. Its message is a single line meant for the
/// operator: what failed and what to do. Anything that is not a <see cref="BtrfsSendException"/>
/// is a bug and is logged with its stack trace.
/// </summary>
public abstract class BtrfsSendException : Exception
{
    protected BtrfsSendException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>The process exit code this failure maps to.</summary>
    public abstract ExitCode ExitCode { get; }
}

namespace BtrfsSend.Core.Errors;

/// <summary>Configuration is invalid; nothing was touched.</summary>
public sealed class ConfigException(string message, Exception? innerException = null)
    : BtrfsSendException(message, innerException)
{
    public override ExitCode ExitCode => ExitCode.Config;
}

namespace BtrfsSend.Core.Errors;

/// <summary>A request was refused by policy or grammar.</summary>
public sealed class RefusedException(string code, string message) : BtrfsSendException(message)
{
    /// <summary>The short machine code sent as <c>ERR &lt;code&gt; &lt;message&gt;</c>.</summary>
    public string Code { get; } = code;

    public override ExitCode ExitCode => ExitCode.Refused;
}

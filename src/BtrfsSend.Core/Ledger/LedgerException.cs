using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Ledger;

/// <summary>The ledger file is unusable: a symlink, wrong permissions, or a line that does not parse (named by its number).</summary>
public sealed class LedgerException(string message) : BtrfsSendException(message)
{
    public override ExitCode ExitCode => ExitCode.Config;
}

using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary><c>prune-received &lt;set&gt;</c> (remote-btrfs): apply the receiver's own retention policy.</summary>
public sealed record PruneReceivedRequest(BackupSet Set) : Request
{
    public const string VerbText = "prune-received";

    public override string Verb => VerbText;

    public override string ToCommandLine() => $"{VerbText} {Set.Value}";
}

using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary><c>list-received &lt;set&gt;</c> (remote-btrfs): one <see cref="ListEntryLine"/> per received subvolume.</summary>
public sealed record ListReceivedRequest(BackupSet Set) : Request
{
    public const string VerbText = "list-received";

    public override string Verb => VerbText;

    public override string ToCommandLine() => $"{VerbText} {Set.Value}";
}

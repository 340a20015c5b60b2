using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary><c>get &lt;set&gt; &lt;snapshot&gt;</c>: the stored stream, BSF1-framed on stdout (read-only; may be disabled).</summary>
public sealed record GetRequest(BackupSet Set, SnapshotName Snapshot) : Request
{
    public const string VerbText = "get";

    public override string Verb => VerbText;

    public override string ToCommandLine() => $"{VerbText} {Set.Value} {Snapshot.Value}";
}

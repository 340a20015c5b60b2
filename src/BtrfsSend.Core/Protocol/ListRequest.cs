using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary><c>list &lt;set&gt;</c>: one <see cref="ListEntryLine"/> per stored snapshot (read-only).</summary>
public sealed record ListRequest(BackupSet Set) : Request
{
    public const string VerbText = "list";

    public override string Verb => VerbText;

    public override string ToCommandLine() => $"{VerbText} {Set.Value}";
}

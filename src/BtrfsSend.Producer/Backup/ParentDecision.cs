using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Backup;

/// <summary>Full or incremental, and why.</summary>
internal sealed record ParentDecision(SnapshotName? Parent, string Reason)
{
    public bool IsIncremental => Parent is not null;
}

namespace BtrfsSend.Core.Chains;

/// <summary>
/// A chain that cannot be restored. <see cref="At"/> is the link where it breaks (the incremental
/// whose parent is missing, the inconsistent link, or where the cycle closes) and
/// <see cref="Missing"/> the name that is not stored, if any. <see cref="Message"/> is one line.
/// </summary>
public sealed record BrokenChain(string Snapshot, ChainBreak Break, string At, string? Missing, string Message) : ChainResult
{
    public override string Snapshot { get; } = Snapshot;
}

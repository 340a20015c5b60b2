namespace BtrfsSend.Core.Chains;

/// <summary>A complete chain: <see cref="Links"/> runs from the full stream to the snapshot, in restore order.</summary>
public sealed record ResolvedChain(IReadOnlyList<ChainLink> Links) : ChainResult
{
    public override string Snapshot => Links[^1].Snapshot;

    /// <summary>The full stream at the root of the chain.</summary>
    public ChainLink Full => Links[0];
}

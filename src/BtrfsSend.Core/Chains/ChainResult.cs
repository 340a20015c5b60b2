namespace BtrfsSend.Core.Chains;

/// <summary>What <see cref="ChainResolver.ChainOf"/> found: a <see cref="ResolvedChain"/> or a <see cref="BrokenChain"/>.</summary>
public abstract record ChainResult
{
    private protected ChainResult()
    {
    }

    /// <summary>The snapshot whose chain this is.</summary>
    public abstract string Snapshot { get; }
}

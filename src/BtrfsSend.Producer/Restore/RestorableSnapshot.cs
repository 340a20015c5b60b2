namespace BtrfsSend.Producer.Restore;

/// <summary>A stored snapshot and its chain (full first), or why the chain is broken.</summary>
internal sealed record RestorableSnapshot(RestoreLink Link, IReadOnlyList<RestoreLink>? Chain, string? BrokenReason)
{
    public bool IsRestorable => Chain is not null;

    /// <summary>Stored bytes of the whole chain.</summary>
    public long ChainBytes => Chain?.Sum(l => l.Bytes) ?? 0;
}

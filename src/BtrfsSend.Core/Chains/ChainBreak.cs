namespace BtrfsSend.Core.Chains;

/// <summary>Why a snapshot's chain back to a full stream cannot be followed.</summary>
public enum ChainBreak
{
    /// <summary>The snapshot asked for is not stored at all.</summary>
    UnknownSnapshot,

    /// <summary>An incremental's parent is not stored.</summary>
    MissingParent,

    /// <summary>An incremental names no parent.</summary>
    IncrementalWithoutParent,

    /// <summary>An incremental names itself as its parent.</summary>
    SelfParent,

    /// <summary>A full stream claims a parent: the manifest is inconsistent.</summary>
    FullWithParent,

    /// <summary>Following parents comes back to a snapshot already on the path.</summary>
    Cycle,
}

namespace BtrfsSend.Producer.Restore;

/// <summary>What the restore target holds for one link.</summary>
internal enum TargetLinkKind
{
    /// <summary>Nothing at <c>DIR/&lt;snapshot&gt;</c>: the link will be received.</summary>
    Absent,

    /// <summary>A finished receive of this very snapshot: the link is skipped (resume).</summary>
    Present,

    /// <summary>Something else is in the way: the restore refuses before receiving anything.</summary>
    Conflict,
}

namespace BtrfsSend.Core.Naming;

/// <summary>Whether a stored send stream stands alone or needs its parent's chain.</summary>
public enum StreamKind
{
    /// <summary>A full <c>btrfs send</c> stream; restorable on its own.</summary>
    Full,

    /// <summary>An incremental stream (<c>btrfs send -p parent</c>); needs its parent received first.</summary>
    Incremental,
}

using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Fidelity;

/// <summary>What btrfs send itself does not carry, as docs/fidelity.md lists it; each is shown by <see cref="BtrfsSendLimitTests"/>.</summary>
internal static class Fidelity
{
    /// <summary>The differences a restored copy may show against its source, and only these.</summary>
    public static readonly TreeAllowance[] Limits =
    [
        new(".", "mtime", "an incremental that creates an inode below an unchanged subvolume root leaves the root's mtime at the time of the receive"),
        new(null, "flags", "chattr flags (FS_IOC_GETFLAGS) are not carried; btrfs sets NOCOMPRESS (0x400) itself on a compress= mount"),
    ];
}

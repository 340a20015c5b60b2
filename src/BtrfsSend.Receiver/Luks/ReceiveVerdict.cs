namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// What a receive created (entry names, as found) and, when that was exactly the expected
/// subvolume, what <c>btrfs subvolume show</c> says about it; kept only when both are right.
/// </summary>
internal sealed record ReceiveVerdict(IReadOnlyList<string> CreatedNames, ReceivedSubvolume? Subvolume)
{
    /// <summary>The receive created exactly the expected subvolume (whether finished or not).</summary>
    public bool CreatedExactlyTheSnapshot => Subvolume is not null;

    /// <summary>Kept: exactly the expected subvolume, read-only, with a received UUID.</summary>
    public bool IsKept => Subvolume is { IsComplete: true };
}

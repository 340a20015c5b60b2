namespace BtrfsSend.TestSupport;

/// <summary>What <c>btrfs subvolume show</c> and <c>btrfs property get ro</c> say about a subvolume.</summary>
/// <param name="Uuid">The subvolume's UUID.</param>
/// <param name="ReceivedUuid">"-" when the subvolume was not received (or a receive did not finish).</param>
/// <param name="IsReadOnly">ro=true.</param>
public sealed record SubvolumeFacts(string Uuid, string ReceivedUuid, bool IsReadOnly)
{
    /// <summary>Only a read-only subvolume with a received UUID is a finished receive (docs/architecture.md).</summary>
    public bool IsCompleteReceive => IsReadOnly && ReceivedUuid != "-";
}

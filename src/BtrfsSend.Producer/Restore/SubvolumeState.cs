namespace BtrfsSend.Producer.Restore;

/// <summary>
/// What <c>btrfs subvolume show</c> and <c>btrfs property get -ts PATH ro</c> say about a
/// subvolume. <see cref="ReceivedUuid"/> is null when btrfs prints "-" (never received, or a
/// receive that did not finish).
/// </summary>
internal sealed record SubvolumeState(string Uuid, string? ReceivedUuid, bool IsReadOnly)
{
    /// <summary>Only a read-only subvolume with a received UUID is a finished receive (docs/architecture.md).</summary>
    public bool IsCompleteReceive => IsReadOnly && ReceivedUuid is not null;

    /// <summary>Parses the two outputs; null when <paramref name="show"/> has no UUID line.</summary>
    public static SubvolumeState? TryParse(string show, string readOnlyProperty)
    {
        string? Field(string name) => show.Split('\n')
            .Select(l => l.Trim())
            .Where(l => l.StartsWith(name + ":", StringComparison.Ordinal))
            .Select(l => l[(name.Length + 1)..].Trim())
            .FirstOrDefault();
        var uuid = Field("UUID");
        if (string.IsNullOrEmpty(uuid) || uuid == "-")
        {
            return null;
        }

        var received = Field("Received UUID");
        return new SubvolumeState(uuid, string.IsNullOrEmpty(received) || received == "-" ? null : received, readOnlyProperty.Trim() == "ro=true");
    }
}

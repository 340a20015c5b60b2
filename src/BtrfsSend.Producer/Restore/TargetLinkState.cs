namespace BtrfsSend.Producer.Restore;

/// <summary>What <see cref="TargetDirectory.InspectAsync"/> found for one link, with a one-line detail.</summary>
internal sealed record TargetLinkState(TargetLinkKind Kind, string Detail);

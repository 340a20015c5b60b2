namespace BtrfsSend.Core.Protocol;

/// <summary><c>open-luks</c> (remote-btrfs): stdin carries the LUKS key bytes, bounded.</summary>
public sealed record OpenLuksRequest : Request
{
    public const string VerbText = "open-luks";

    /// <summary>The most key bytes the receiver reads from stdin; more is refused with <c>too-large</c>.</summary>
    public const int MaxKeyBytes = 8192;

    public override string Verb => VerbText;

    public override string ToCommandLine() => VerbText;
}

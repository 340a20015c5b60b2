namespace BtrfsSend.Core.Protocol;

/// <summary><c>open-luks</c> (remote-btrfs): stdin carries the LUKS key bytes, bounded.</summary>
public sealed record OpenLuksRequest : Request
{
    public const string VerbText = "open-luks";

    public override string Verb => VerbText;

    public override string ToCommandLine() => VerbText;
}

namespace BtrfsSend.Core.Protocol;

/// <summary><c>close-luks</c> (remote-btrfs): unmount and close the volume.</summary>
public sealed record CloseLuksRequest : Request
{
    public const string VerbText = "close-luks";

    public override string Verb => VerbText;

    public override string ToCommandLine() => VerbText;
}

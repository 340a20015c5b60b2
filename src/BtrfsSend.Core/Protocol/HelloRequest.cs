namespace BtrfsSend.Core.Protocol;

/// <summary><c>hello</c>: the receiver answers with one <see cref="HelloLine"/>.</summary>
public sealed record HelloRequest : Request
{
    public const string VerbText = "hello";

    public override string Verb => VerbText;

    public override string ToCommandLine() => VerbText;
}

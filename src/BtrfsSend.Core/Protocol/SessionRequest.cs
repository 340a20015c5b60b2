namespace BtrfsSend.Core.Protocol;

/// <summary>
/// <c>session</c>: one connection carries several requests (docs/protocol.md, "Sessions"). Valid only
/// as the connection's command, never as a request inside a session; the rules of a session are
/// in <see cref="SessionRules"/>.
/// </summary>
public sealed record SessionRequest : Request
{
    public const string VerbText = "session";

    public override string Verb => VerbText;

    public override string ToCommandLine() => VerbText;
}

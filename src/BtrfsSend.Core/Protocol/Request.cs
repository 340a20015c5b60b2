namespace BtrfsSend.Core.Protocol;

/// <summary>
/// One command a client may send as <c>SSH_ORIGINAL_COMMAND</c> (docs/protocol.md). The hierarchy is
/// closed: every request type lives in this folder, and <see cref="CommandGrammar.Parse"/> is the
/// only way the receiver gets one from the wire.
/// </summary>
public abstract record Request
{
    private protected Request()
    {
    }

    /// <summary>The verb, the first token of the command line.</summary>
    public abstract string Verb { get; }

    /// <summary>
    /// The canonical command line for this request, which <see cref="CommandGrammar.Parse"/> reads
    /// back to an equal request. The producer passes it to ssh as the single remote command.
    /// </summary>
    public abstract string ToCommandLine();
}

namespace BtrfsSend.Producer.Connection;

/// <summary>
/// A write to a session whose connection is closed: the receiver ended it (a refusal, a cut
/// connection: EPIPE) or this side closed ssh's stdin already (a disposed pipe). One
/// <see cref="IOException"/> for both, so a caller needs no case for how the closing surfaced.
/// </summary>
internal sealed class SessionClosedException(string message, Exception inner) : IOException(message, inner);

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// What a <c>session</c> allows (docs/protocol.md, "Sessions"): request lines on stdin, each a command
/// of the grammar ended by LF; the payload of an upload (<c>receive-stream</c>, <c>receive</c>) and the
/// key of <c>open-luks</c> follow their line as one BSF1 stream, which ends at its trailer; each request
/// is answered as on its own connection, then a success ends with <see cref="RenderDone"/>'s line. A
/// refusal (its ERR line) ends the session, as does EOF at the start of a line.
/// </summary>
public static class SessionRules
{
    /// <summary>Requests one session may carry: a remote-btrfs run needs six.</summary>
    public const int MaxRequests = 16;

    /// <summary>Uploads (<c>receive-stream</c> or <c>receive</c>) one session may carry.</summary>
    public const int MaxUploads = 1;

    /// <summary>The longest request line, without its LF: the grammar's limit.</summary>
    public const int MaxLineBytes = CommandGrammar.MaxBytes;

    /// <summary>The hello token by which a receiver offers sessions.</summary>
    public const string HelloToken = "session=1";

    public const string DonePrefix = "DONE ";

    /// <summary>The line that ends a successful answer inside a session.</summary>
    public static string RenderDone(Request request) => DonePrefix + request.Verb;

    /// <summary>True for the verbs a session serves: all but <c>session</c> itself and <c>get</c> (restores use their own connections).</summary>
    public static bool IsServed(Request request) => request is not (SessionRequest or GetRequest);

    /// <summary>True when the request's line is followed by a BSF1 stream in a session.</summary>
    public static bool HasPayload(Request request) => request is ReceiveStreamRequest or ReceiveRequest or OpenLuksRequest;

    public static bool IsUpload(Request request) => request is ReceiveStreamRequest or ReceiveRequest;

    /// <summary>Checks a request line parsed inside a session: served at all, and within the limits so far.</summary>
    public static CommandParseResult Check(CommandParseResult parsed, int requestNumber, int uploadsBefore)
    {
        if (!parsed.IsValid)
        {
            return parsed;
        }

        var request = parsed.Request;
        if (!IsServed(request))
        {
            return CommandParseResult.Fail(ErrorCodes.BadCommand, $"'{request.Verb}' is not served inside a session; allowed in a session: hello, list, receive-stream, open-luks, receive, list-received, prune-received, close-luks");
        }

        if (requestNumber > MaxRequests)
        {
            return CommandParseResult.Fail(ErrorCodes.BadCommand, $"request {requestNumber} of this session: a session carries at most {MaxRequests} requests; open a new connection");
        }

        if (IsUpload(request) && uploadsBefore >= MaxUploads)
        {
            return CommandParseResult.Fail(ErrorCodes.BadCommand, $"'{request.Verb}': a session carries at most {MaxUploads} upload (receive-stream or receive); open a new connection");
        }

        return parsed;
    }

    /// <summary>Reads a <see cref="RenderDone"/> line: the verb it names, or null when the line is not one.</summary>
    public static string? ParseDone(string line)
    {
        if (!line.StartsWith(DonePrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var verb = line[DonePrefix.Length..];
        return verb.Length is > 0 and <= 32 && verb.All(c => c is (>= 'a' and <= 'z') or '-') ? verb : null;
    }
}

using System.Diagnostics.CodeAnalysis;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// The outcome of <see cref="CommandGrammar.Parse"/>: a <see cref="Request"/>, or an
/// <see cref="ErrorCodes"/> code with a one-line, printable-ASCII message naming the token and what is allowed.
/// </summary>
public sealed record CommandParseResult
{
    private CommandParseResult(Request? request, string? errorCode, string? error)
    {
        Request = request;
        ErrorCode = errorCode;
        Error = error;
    }

    public Request? Request { get; }

    /// <summary>One of <see cref="ErrorCodes"/> when refused.</summary>
    public string? ErrorCode { get; }

    /// <summary>The one-line reason when refused; never contains characters outside 0x20–0x7E.</summary>
    public string? Error { get; }

    [MemberNotNullWhen(true, nameof(Request))]
    [MemberNotNullWhen(false, nameof(ErrorCode), nameof(Error))]
    public bool IsValid => Request is not null;

    internal static CommandParseResult Ok(Request request) => new(request, null, null);

    internal static CommandParseResult Fail(string errorCode, string error) => new(null, errorCode, error);
}

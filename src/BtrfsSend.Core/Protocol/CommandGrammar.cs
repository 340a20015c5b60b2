using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// Reads <c>SSH_ORIGINAL_COMMAND</c> into a <see cref="Request"/> (docs/protocol.md).
/// No shell, no quoting, no options: the line is printable ASCII, at most
/// <see cref="MaxBytes"/> bytes, split on single spaces, and every token is checked against its rule.
/// Anything else is refused; <see cref="Parse"/> never throws.
/// </summary>
public static class CommandGrammar
{
    public const int MaxBytes = 1024;

    public const string Usage =
        "hello | receive-stream <set> <snapshot> full [<declarations>] | receive-stream <set> <snapshot> incremental <parent> [<declarations>] | "
        + "list <set> | get <set> <snapshot> | open-luks | receive <set> <snapshot> [<parent>] [<declarations>] | "
        + "list-received <set> | prune-received <set> | close-luks | session";

    public static CommandParseResult Parse(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return BadCommand($"command is empty; allowed: {Usage}");
        }

        // Length first: a 100 KiB line is refused without looking at its content.
        var bytes = raw.Length > MaxBytes ? raw.Length : Encoding.UTF8.GetByteCount(raw);
        if (bytes > MaxBytes)
        {
            return BadCommand($"command is longer than {MaxBytes} bytes; allowed: at most {MaxBytes} bytes of printable ASCII");
        }

        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c is < ' ' or > '~')
            {
                return BadCommand($"command contains {NameText.Describe(c)} at position {i}; allowed: printable ASCII (0x20-0x7E) only");
            }
        }

        if (raw[0] == ' ' || raw[^1] == ' ')
        {
            return BadCommand("command starts or ends with a space; allowed: tokens separated by single spaces");
        }

        var doubleSpace = raw.IndexOf("  ", StringComparison.Ordinal);
        if (doubleSpace >= 0)
        {
            return BadCommand($"command has two spaces in a row at position {doubleSpace}; allowed: tokens separated by single spaces");
        }

        var tokens = raw.Split(' ');
        var verb = tokens[0];
        return verb switch
        {
            HelloRequest.VerbText => NoArguments(tokens, new HelloRequest()),
            OpenLuksRequest.VerbText => NoArguments(tokens, new OpenLuksRequest()),
            CloseLuksRequest.VerbText => NoArguments(tokens, new CloseLuksRequest()),
            SessionRequest.VerbText => NoArguments(tokens, new SessionRequest()),
            ListRequest.VerbText => SetOnly(tokens, set => new ListRequest(set)),
            ListReceivedRequest.VerbText => SetOnly(tokens, set => new ListReceivedRequest(set)),
            PruneReceivedRequest.VerbText => SetOnly(tokens, set => new PruneReceivedRequest(set)),
            GetRequest.VerbText => Get(tokens),
            ReceiveStreamRequest.VerbText => ReceiveStream(tokens),
            ReceiveRequest.VerbText => Receive(tokens),
            _ => BadCommand($"unknown command '{NameText.Printable(verb)}'; allowed: {Usage}"),
        };
    }

    private static CommandParseResult NoArguments(string[] tokens, Request request)
        => tokens.Length == 1 ? CommandParseResult.Ok(request) : Arity(tokens, request.Verb);

    private static CommandParseResult SetOnly(string[] tokens, Func<BackupSet, Request> create)
    {
        if (tokens.Length != 2)
        {
            return Arity(tokens, $"{tokens[0]} <set>");
        }

        var set = BackupSet.Check(tokens[1]);
        return set.Value is null ? BadSet(set.Error) : CommandParseResult.Ok(create(set.Value));
    }

    private static CommandParseResult Get(string[] tokens)
    {
        if (tokens.Length != 3)
        {
            return Arity(tokens, "get <set> <snapshot>");
        }

        var (set, snapshot, failure) = CheckSetAndSnapshot(tokens);
        return failure ?? CommandParseResult.Ok(new GetRequest(set!, snapshot!));
    }

    private static CommandParseResult ReceiveStream(string[] tokens)
    {
        const string usage = "receive-stream <set> <snapshot> full [<declarations>] | receive-stream <set> <snapshot> incremental <parent> [<declarations>]";
        if (tokens.Length < 4)
        {
            return Arity(tokens, usage);
        }

        var kind = tokens[3];
        if (kind is not (ReceiveStreamRequest.FullText or ReceiveStreamRequest.IncrementalText))
        {
            return BadCommand($"receive-stream kind '{NameText.Printable(kind)}' is not 'full' or 'incremental'; allowed: {usage}");
        }

        var isIncremental = kind == ReceiveStreamRequest.IncrementalText;
        var fixedCount = isIncremental ? 5 : 4;
        if (tokens.Length < fixedCount || (isIncremental && tokens[4].Contains('=', StringComparison.Ordinal)))
        {
            return Arity(tokens, usage);
        }

        var declared = StreamDeclaration.Parse(tokens[fixedCount..], isIncremental);
        if (declared.Value is null)
        {
            return BadCommand(declared.Error!);
        }

        var (set, snapshot, failure) = CheckSetAndSnapshot(tokens);
        if (failure is not null)
        {
            return failure;
        }

        if (!isIncremental)
        {
            return CommandParseResult.Ok(new ReceiveStreamRequest(set!, snapshot!, false, null) { Declared = declared.Value });
        }

        var parent = CheckParent(snapshot!, tokens[4]);
        return parent.Value is null
            ? parent.Failure!
            : CommandParseResult.Ok(new ReceiveStreamRequest(set!, snapshot!, true, parent.Value) { Declared = declared.Value });
    }

    private static CommandParseResult Receive(string[] tokens)
    {
        if (tokens.Length < 3)
        {
            return Arity(tokens, "receive <set> <snapshot> [<parent>] [<declarations>]");
        }

        var (set, snapshot, failure) = CheckSetAndSnapshot(tokens);
        if (failure is not null)
        {
            return failure;
        }

        // Snapshot names never contain '=', so a 4th token without one is the parent.
        var hasParent = tokens.Length > 3 && !tokens[3].Contains('=', StringComparison.Ordinal);
        var declared = StreamDeclaration.Parse(tokens[(hasParent ? 4 : 3)..], hasParent);
        if (declared.Value is null)
        {
            return BadCommand(declared.Error!);
        }

        if (!hasParent)
        {
            return CommandParseResult.Ok(new ReceiveRequest(set!, snapshot!, null) { Declared = declared.Value });
        }

        var parent = CheckParent(snapshot!, tokens[3]);
        return parent.Value is null
            ? parent.Failure!
            : CommandParseResult.Ok(new ReceiveRequest(set!, snapshot!, parent.Value) { Declared = declared.Value });
    }

    /// <summary>The set (token 1) and the snapshot (token 2), or the failure naming the first that is not valid.</summary>
    private static (BackupSet? Set, SnapshotName? Snapshot, CommandParseResult? Failure) CheckSetAndSnapshot(string[] tokens)
    {
        var set = BackupSet.Check(tokens[1]);
        if (set.Value is null)
        {
            return (null, null, BadSet(set.Error));
        }

        var snapshot = SnapshotName.Check(tokens[2]);
        return snapshot.Value is null ? (null, null, BadSnapshot(snapshot.Error)) : (set.Value, snapshot.Value, null);
    }

    private static (SnapshotName? Value, CommandParseResult? Failure) CheckParent(SnapshotName snapshot, string token)
    {
        var parent = SnapshotName.Check(token);
        if (parent.Value is null)
        {
            return (null, BadSnapshot($"parent: {parent.Error}"));
        }

        var problem = ParentRule.Problem(snapshot, parent.Value);
        return problem is null
            ? (parent.Value, null)
            : (null, CommandParseResult.Fail(ErrorCodes.BadParent, problem));
    }

    private static CommandParseResult Arity(string[] tokens, string usage)
    {
        var got = tokens.Length - 1;
        var gotText = $"got {got} argument{(got == 1 ? "" : "s")}";

        // Usages with alternatives ('|', '[...]') spell out the allowed counts themselves.
        if (usage.Contains('|', StringComparison.Ordinal) || usage.Contains('[', StringComparison.Ordinal))
        {
            return BadCommand($"'{tokens[0]}' {gotText}; allowed: {usage}");
        }

        var takes = usage.Count(c => c == '<') switch
        {
            0 => "no arguments",
            1 => "1 argument",
            var n => $"{n} arguments",
        };
        return BadCommand($"'{tokens[0]}' takes {takes}, {gotText}; allowed: {usage}");
    }

    private static CommandParseResult BadCommand(string message) => CommandParseResult.Fail(ErrorCodes.BadCommand, message);

    private static CommandParseResult BadSet(string? message) => CommandParseResult.Fail(ErrorCodes.BadSet, message!);

    private static CommandParseResult BadSnapshot(string? message) => CommandParseResult.Fail(ErrorCodes.BadSnapshot, message!);
}

using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Luks;
using BtrfsSend.Receiver.Serve.Verbs;
using Serilog;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// One forced-command invocation: the raw <c>SSH_ORIGINAL_COMMAND</c> is parsed by the core
/// grammar only, checked against this client's allowed sets, and dispatched to one handler per
/// verb (<c>Serve/Verbs</c>). stdout carries only protocol output (an answer line, list lines, or
/// a BSF1 stream); every refusal is one <c>ERR</c> line on stdout, one log line with the client,
/// the raw command and the full detail (LOG_FILE or syslog), the same one-liner without server
/// paths on stderr, and a distinct exit code. Nothing the client receives names a path on the
/// backup server (<see cref="ClientText"/>). Nothing is created or changed by a refused request.
/// </summary>
internal sealed class ServeSession(
    ReceiverOptions options,
    string? client,
    Stream stdin,
    Stream stdout,
    ILogger log,
    TimeProvider clock)
{
    /// <summary>Copy buffer: large enough to keep the pipe busy, small enough for flat memory.</summary>
    internal const int BufferSize = 1024 * 1024;

    /// <summary>
    /// The manifest's <c>client</c> when neither authorized_keys' <c>--client</c> pin nor the sudo
    /// user (SUDO_USER) names one: a valid client name, because "-" is not one.
    /// </summary>
    internal const string UnpinnedClient = "unpinned";

    private ServeContext? _context;

    /// <summary>Where LUKS leases and the volume lock live; tests point it elsewhere.</summary>
    internal string LuksLeaseDirPath { get; init; } = LuksLease.DefaultDirPath;

    /// <summary>What the verb handlers share; made once, so every request of the session reads the same input.</summary>
    private ServeContext Context => _context ??= new ServeContext(options, client, stdin, stdout, log, clock, LuksLeaseDirPath);

    public async Task<int> RunAsync(string rawCommand, CancellationToken cancellationToken = default)
    {
        var shown = NameText.Printable(rawCommand);
        var parsed = CommandGrammar.Parse(rawCommand);
        if (!parsed.IsValid)
        {
            return await RefuseAsync(new ServeRefusal(parsed.ErrorCode, parsed.Error), shown);
        }

        if (parsed.Request is SessionRequest)
        {
            log.Information("client {Client} request: {Command}", Context.ClientLabel, shown);
            return await new SessionLoop(Context.Stdin, log, Context.ClientLabel).RunAsync(
                (request, shownRequest, payload, token) =>
                {
                    Context.Input = payload;
                    return ServeAsync(request, shownRequest, token);
                },
                RefuseAsync,
                Context.WriteLineAsync,
                cancellationToken);
        }

        log.Information("client {Client} request: {Command}", Context.ClientLabel, shown);
        Context.Input = Context.Stdin;
        return await ServeAsync(parsed.Request, shown, cancellationToken);
    }

    /// <summary>
    /// Serves one request that passed the grammar: the verb's handler, or exactly one refusal
    /// (ERR line, log lines, exit code) whatever goes wrong. <paramref name="shown"/> is the
    /// request as it may be printed.
    /// </summary>
    private async Task<int> ServeAsync(Request request, string shown, CancellationToken cancellationToken)
    {
        try
        {
            return await DispatchAsync(request, cancellationToken);
        }
        catch (ServeRefusal refusal)
        {
            return await RefuseAsync(refusal, shown);
        }
        catch (IdleTimeoutException ex)
        {
            // The set lock and the temp file are already released by the verb's using/finally.
            return await RefuseAsync(new ServeRefusal(ErrorCodes.IdleTimeout, $"{ex.Message}; nothing was stored"), shown);
        }
        catch (LockHeldException ex)
        {
            return await RefuseAsync(new ServeRefusal(ErrorCodes.Busy, ex.Message), shown);
        }
        catch (FramingException ex)
        {
            return await RefuseAsync(new ServeRefusal(ex.ErrorCode, ex.Message), shown);
        }
        catch (StorageException ex)
        {
            return await RefuseAsync(new ServeRefusal(ErrorCodes.IoError, ex.Message), shown);
        }
        catch (IOException ex) when (IsDiskFull(ex))
        {
            return await RefuseAsync(new ServeRefusal(ErrorCodes.NoSpace, $"the backup disk is full ({ex.Message}); nothing was stored; the backup server's admin must free space"), shown);
        }
        catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return await RefuseAsync(new ServeRefusal(ErrorCodes.IoError, $"I/O error: {ex.Message}; nothing was stored"), shown);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug: the producer still gets its one ERR line (instead of an empty answer), the
            // admin gets the whole exception in the log.
            log.Fatal(ex, "internal error serving client {Client}, command {Command}", Context.ClientLabel, shown);
            return await RefuseAsync(new ServeRefusal(ErrorCodes.Internal, "internal error in the receiver (details in its log); treat this request as failed"), shown);
        }
    }

    /// <summary>The one place that knows which handler serves which verb (docs/architecture.md lists where each lives).</summary>
    private Task<int> DispatchAsync(Request request, CancellationToken cancellationToken) => request switch
    {
        HelloRequest => new HelloVerb(Context).ServeAsync(),
        ReceiveStreamRequest r => new ReceiveStreamVerb(Context).ServeAsync(r, cancellationToken),
        ListRequest r => new ListVerb(Context).ServeAsync(r),
        GetRequest r => new GetVerb(Context).ServeAsync(r, cancellationToken),
        OpenLuksRequest => new OpenLuksVerb(Context).ServeAsync(cancellationToken),
        ReceiveRequest r => new ReceiveVerb(Context).ServeAsync(r, cancellationToken),
        ListReceivedRequest r => new ListReceivedVerb(Context).ServeAsync(r, cancellationToken),
        PruneReceivedRequest r => new PruneReceivedVerb(Context).ServeAsync(r, cancellationToken),
        CloseLuksRequest => new CloseLuksVerb(Context).ServeAsync(),
        SessionRequest => throw new ServeRefusal(ErrorCodes.BadCommand, "'session' is the connection's command, never a request inside one"),
        _ => throw new ServeRefusal(ErrorCodes.BadCommand, $"'{request.Verb}' is not served by this receiver"),
    };

    private async Task<int> RefuseAsync(ServeRefusal refusal, string shownCommand)
    {
        log.Warning("client {Client} refused ({Code}): {Message}; command: {Command}", Context.ClientLabel, refusal.Code, refusal.Message, shownCommand);
        var told = ClientText.WithoutPaths(refusal.Message, options);
        log.ForContext(ServeLog.ToClientProperty, true).Error("refused ({Code}): {Message}", refusal.Code, told);
        try
        {
            await Context.WriteLineAsync(ErrLine.From(refusal.Code, told).Render());
        }
        catch (IOException)
        {
            // The client is gone (EPIPE); the exit code and the log line remain.
        }

        return (int)refusal.ExitCode;
    }

    private static bool IsDiskFull(IOException ex) => ex.HResult == 28 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
}

using System.Text;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// One forced-command invocation: the raw <c>SSH_ORIGINAL_COMMAND</c> is parsed by the core
/// grammar only, checked against this client's allowed sets, and dispatched. stdout carries only
/// protocol output (an answer line, list lines, or a BSF1 stream); every refusal is one
/// <c>ERR</c> line on stdout, one log line with the client, the raw command and the full detail
/// (LOG_FILE or syslog), the same one-liner without server paths on stderr, and a distinct exit
/// code. Nothing the client receives names a path on the backup server (<see cref="ClientText"/>).
/// Nothing is created or changed by a refused request.
/// </summary>
internal sealed partial class ServeSession(
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

    private readonly StreamStore _store = new(options.BackupRootDirPath);

    /// <summary>stdin: a client that sends nothing for IDLE_TIMEOUT_SECONDS is cut off.</summary>
    private readonly Stream _stdin = new Core.Streams.IdleTimeoutStream(stdin, options.IdleTimeout, "the client", leaveOpen: true);

    /// <summary>What the verb being served reads: stdin, or inside a session the request's own payload.</summary>
    private Stream _input = Stream.Null;

    private string ClientLabel => client ?? "-";

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
            log.Information("client {Client} request: {Command}", ClientLabel, shown);
            return await new SessionLoop(_stdin, log, ClientLabel).RunAsync(
                (request, shownRequest, payload, token) =>
                {
                    _input = payload;
                    return ServeAsync(request, shownRequest, token);
                },
                RefuseAsync,
                WriteLineAsync,
                cancellationToken);
        }

        log.Information("client {Client} request: {Command}", ClientLabel, shown);
        _input = _stdin;
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
            return request switch
            {
                HelloRequest => await HelloAsync(),
                ReceiveStreamRequest r => await ReceiveStreamAsync(r, cancellationToken),
                ListRequest r => await ListAsync(r),
                GetRequest r => await GetAsync(r, cancellationToken),
                OpenLuksRequest => await OpenLuksAsync(cancellationToken),
                ReceiveRequest r => await ReceiveAsync(r, cancellationToken),
                ListReceivedRequest r => await ListReceivedAsync(r, cancellationToken),
                PruneReceivedRequest r => await PruneReceivedAsync(r, cancellationToken),
                CloseLuksRequest => await CloseLuksAsync(),
                SessionRequest => throw new ServeRefusal(ErrorCodes.BadCommand, "'session' is the connection's command, never a request inside one"),
                _ => throw new ServeRefusal(ErrorCodes.BadCommand, $"'{request.Verb}' is not served by this receiver"),
            };
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
            log.Fatal(ex, "internal error serving client {Client}, command {Command}", ClientLabel, shown);
            return await RefuseAsync(new ServeRefusal(ErrorCodes.Internal, "internal error in the receiver (details in its log); treat this request as failed"), shown);
        }
    }

    private async Task<int> RefuseAsync(ServeRefusal refusal, string shownCommand)
    {
        log.Warning("client {Client} refused ({Code}): {Message}; command: {Command}", ClientLabel, refusal.Code, refusal.Message, shownCommand);
        var told = ClientText.WithoutPaths(refusal.Message, options);
        log.ForContext(ServeLog.ToClientProperty, true).Error("refused ({Code}): {Message}", refusal.Code, told);
        try
        {
            await WriteLineAsync(ErrLine.From(refusal.Code, told).Render());
        }
        catch (IOException)
        {
            // The client is gone (EPIPE); the exit code and the log line remain.
        }

        return (int)refusal.ExitCode;
    }

    /// <summary>
    /// The version and the modes served. An unusable BACKUP_ROOT is answered <c>ERR store-unusable</c>
    /// (an older producer then stops with "refused", still before quiescing); a receiver that also
    /// serves remote-btrfs (which does not use BACKUP_ROOT) instead leaves encrypted-stream out of
    /// its modes, so that remote-btrfs producers keep working.
    /// </summary>
    private async Task<int> HelloAsync()
    {
        var version = ProgramVersion.Current.Length <= 64 ? ProgramVersion.Current : ProgramVersion.Current[..64];
        var luks = Luks.LuksSession.IsConfigured(options);
        var storeProblem = StoreUsability.ProblemForUploads(options);
        if (storeProblem is not null && !luks)
        {
            throw new ServeRefusal(ErrorCodes.StoreUnusable, storeProblem);
        }

        if (storeProblem is not null)
        {
            log.Warning("hello: encrypted-stream mode not offered: {Problem}", storeProblem);
        }

        string[] modes = !luks ? [HelloLine.EncryptedStreamMode]
            : storeProblem is null ? [HelloLine.EncryptedStreamMode, HelloLine.RemoteBtrfsMode]
            : [HelloLine.RemoteBtrfsMode];
        await WriteLineAsync(new HelloLine(version, HelloLine.CurrentProtocol, modes) { OffersSession = true }.Render());
        return 0;
    }

    private void RequireAllowed(BackupSet set)
    {
        if (!options.IsSetAllowed(client, set))
        {
            throw new ServeRefusal(ErrorCodes.Forbidden, $"client '{ClientLabel}' may not use backup set '{set}'; ask the backup server's admin to add it to CLIENT_{ClientLabel}");
        }
    }

    private async Task WriteLineAsync(string line)
    {
        var bytes = Encoding.ASCII.GetBytes(line + "\n");
        await stdout.WriteAsync(bytes);
        await stdout.FlushAsync();
    }

    private static bool IsDiskFull(IOException ex) => ex.HResult == 28 || ex.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
}

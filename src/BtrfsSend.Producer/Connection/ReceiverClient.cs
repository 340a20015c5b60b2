using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Transport;
using Serilog;

namespace BtrfsSend.Producer.Connection;

/// <summary>
/// Talks to btrfs-backup-receive through <c>ssh ... -- "COMMAND"</c>. Only requests built by
/// the core grammar's records are sent, so what goes over the wire always parses on the other side.
/// A backup run opens one <c>session</c> (<see cref="OpenSessionAsync"/>) and every later request
/// goes through it while it is usable; without one (an older receiver, a session that ended) each
/// request has its own connection, as before sessions existed.
/// </summary>
internal sealed class ReceiverClient(SshArgv ssh, ToolRunner tools) : IAsyncDisposable
{
    private Task<(ReceiverSession? Session, HelloLine Hello)>? _opening;

    public SshArgv Ssh { get; } = ssh;

    /// <summary>IDLE_TIMEOUT_SECONDS: how long a short answer (hello, list) or a pause in <c>get</c> data may take.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>What runs in place of <c>ssh ... -- session</c>: null in production; tests point it at a canned answer.</summary>
    internal IReadOnlyList<string>? SessionArgv { get; init; }

    public async Task<HelloLine> HelloAsync(CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new HelloRequest(), cancellationToken);
        return ReadHello(result.StandardOutput);
    }

    /// <summary>
    /// The run's hello, as the first request of a session: a receiver that serves sessions answers it
    /// there and the session stays open for the run's other requests. A receiver older than sessions
    /// refuses the command <c>session</c> itself with <c>bad-command</c> (a newer one never refuses
    /// hello so): then hello goes on its own connection and so does every later request (logged at info).
    /// Requests made while this runs wait for its outcome.
    /// </summary>
    public Task<HelloLine> OpenSessionAsync(ILogger log, CancellationToken cancellationToken = default)
    {
        if (_opening is not null)
        {
            throw new InvalidOperationException("a session was already opened for this run");
        }

        _opening = OpenCoreAsync(log, cancellationToken);
        return HelloOfAsync(_opening);

        static async Task<HelloLine> HelloOfAsync(Task<(ReceiverSession? Session, HelloLine Hello)> opening) => (await opening).Hello;
    }

    /// <summary>Ends the run's session, if it is still open: the receiver must end it cleanly, saying nothing more.</summary>
    public async Task EndSessionAsync()
    {
        if (_opening is { IsCompletedSuccessfully: true } && _opening.Result.Session is { } session)
        {
            await session.EndAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_opening is null)
        {
            return;
        }

        try
        {
            if ((await _opening).Session is { } session)
            {
                await session.DisposeAsync();
            }
        }
        catch (BtrfsSendException)
        {
            // Opening failed: the run reported that already.
        }
    }

    /// <summary>The session the next request may use, or null: none was opened, it ended, or it waited too long since its last answer.</summary>
    internal async Task<ReceiverSession?> SessionAsync()
    {
        if (_opening is null)
        {
            return null;
        }

        var session = (await _opening).Session;
        if (session is { IsUsable: true } && session.SinceLastAnswer > IdleTimeout / 2)
        {
            // The receiver gives up on a silent session after its IDLE_TIMEOUT_SECONDS: rather than race it,
            // the rest of the run uses a new connection per request.
            await session.DisposeAsync();
        }

        return session is { IsUsable: true } ? session : null;
    }

    private async Task<(ReceiverSession? Session, HelloLine Hello)> OpenCoreAsync(ILogger log, CancellationToken cancellationToken)
    {
        var session = await ReceiverSession.StartAsync(Ssh, IdleTimeout, SessionArgv);
        ToolResult answer;
        try
        {
            answer = await session.RunAsync(new HelloRequest(), ReadOnlyMemory<byte>.Empty, this, cancellationToken);
        }
        catch (RefusedException ex) when (ex.Code == ErrorCodes.BadCommand)
        {
            await session.DisposeAsync();
            log.Information("the receiver at {Target} does not serve sessions (it refused the command 'session'); each request uses its own connection", Ssh.Target);
            return (null, ReadHello((await RunOwnConnectionAsync(new HelloRequest(), ReadOnlyMemory<byte>.Empty, cancellationToken)).StandardOutput));
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }

        var hello = ReadHello(answer.StandardOutput);
        if (!hello.OffersSession)
        {
            await session.DisposeAsync();
            throw new PrerequisiteException($"the receiver at {Ssh.Target} answered hello inside a session but does not offer sessions ('{NameText.Printable(hello.Render())}'); is its authorized_keys forced command right?");
        }

        return (session, hello);
    }

    private HelloLine ReadHello(string stdout)
    {
        var line = LastLine(stdout);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        if (lines > 1)
        {
            throw new PrerequisiteException($"the receiver at {Ssh.Target} answered hello with {lines} lines, btrfs-backup-receive answers one (the last: '{NameText.Printable(line)}'); is its authorized_keys forced command right?");
        }

        var hello = HelloLine.Parse(line);
        if (hello.Value is null)
        {
            throw new PrerequisiteException($"the receiver at {Ssh.Target} did not answer hello as btrfs-backup-receive does ('{NameText.Printable(line)}'); is its authorized_keys forced command right?");
        }

        if (hello.Value.Protocol != HelloLine.CurrentProtocol)
        {
            throw new PrerequisiteException($"the receiver at {Ssh.Target} speaks protocol {hello.Value.Protocol}, this producer speaks {HelloLine.CurrentProtocol}; upgrade one of them");
        }

        return hello.Value;
    }

    public async Task<IReadOnlyList<ListEntryLine>> ListAsync(BackupSet set, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new ListRequest(set), cancellationToken);
        return ListAnswer.Parse(result.StandardOutput, set);
    }

    /// <summary>Runs a request without stdin; an ERR line or a failed ssh is an exception.</summary>
    private Task<ToolResult> RunAsync(Request request, CancellationToken cancellationToken)
        => RunAsync(request, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>
    /// Runs a request with <paramref name="stdin"/> (e.g. open-luks's key), giving up after
    /// <see cref="IdleTimeout"/>; an ERR line or a failed ssh is an exception.
    /// </summary>
    public async Task<ToolResult> RunAsync(Request request, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        if (await SessionAsync() is { } session)
        {
            var answer = await session.RunAsync(request, stdin, this, cancellationToken);
            if (request is OpenLuksRequest or PruneReceivedRequest or CloseLuksRequest && answer.StandardOutput.Length > 0)
            {
                throw new TransferFailedException($"the receiver at {Ssh.Target} answered '{request.Verb}' with '{NameText.Printable(LastLine(answer.StandardOutput))}'; it answers nothing but its end of answer there");
            }

            return answer;
        }

        return await RunOwnConnectionAsync(request, stdin, cancellationToken);
    }

    private async Task<ToolResult> RunOwnConnectionAsync(Request request, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        var argv = Ssh.For(request.ToCommandLine());
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(IdleTimeout);
        ToolResult result;
        try
        {
            result = await tools.TryRunAsync(argv, stdin, cancellationToken: idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A stalled receiver (or network) must not hold a cron run forever.
            throw new IdleTimeoutException($"the receiver at {Ssh.Target} did not answer '{request.Verb}' within {IdleTimeout.TotalSeconds:0} seconds (IDLE_TIMEOUT_SECONDS); the request was abandoned; check the backup server");
        }

        ThrowIfFailed(result.ExitCode, result.StandardOutput, result.StandardErrorTail, request);
        return result;
    }

    /// <summary>Maps ssh's and the receiver's failures to the producer's exit codes.</summary>
    public void ThrowIfFailed(int exitCode, string stdout, string stderrTail, Request request)
    {
        var last = LastLine(stdout);
        if (ResponseLine.Parse(last).Value is ErrLine err)
        {
            if (err.Code == ErrorCodes.StoreUnusable)
            {
                throw new PrerequisiteException($"the receiver cannot store backups: {err.Message}; nothing was stopped, snapshotted or sent");
            }

            throw err.Code is ErrorCodes.Truncated or ErrorCodes.BadFrame or ErrorCodes.BadTrailer or ErrorCodes.HashMismatch or ErrorCodes.IoError or ErrorCodes.NoSpace
                ? new TransferFailedException($"the receiver did not store {request.Verb}: {err.Code}: {err.Message}")
                : new RefusedException(err.Code, $"the receiver refused '{request.ToCommandLine()}': {err.Code}: {err.Message}");
        }

        if (exitCode == 255)
        {
            throw new TransferFailedException($"cannot reach the receiver with ssh {Ssh.Target}: {StderrTail.LastLines(stderrTail)}; check BACKUP_SSH_TARGET, the key and the network");
        }

        if (exitCode != 0)
        {
            throw new TransferFailedException($"'{request.Verb}' on the receiver failed with exit code {exitCode}: {StderrTail.LastLines(stderrTail)}");
        }
    }

    public static string LastLine(string text)
        => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
}

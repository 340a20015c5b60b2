using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Transport;

namespace BtrfsSend.Producer.Connection;

/// <summary>
/// One <c>ssh ... -- session</c> connection (docs/protocol.md, "Sessions"): requests go one at a time
/// as lines on ssh's stdin (an upload's BSF1 stream, or open-luks's key framed as BSF1, right after
/// its line); each answer is read from ssh's stdout up to its <c>DONE &lt;verb&gt;</c> line, as
/// strictly as a single-verb answer: at most <see cref="MaxLineBytes"/> per line, a DONE for another
/// verb, a line after an ERR or a stall of IDLE_TIMEOUT_SECONDS each end the run with one of our
/// errors. After an ERR, EOF or any failure the session is over (<see cref="IsUsable"/> false).
/// </summary>
internal sealed class ReceiverSession : IAsyncDisposable
{
    /// <summary>The longest answer line read: above the longest list, hello or ERR line.</summary>
    public const int MaxLineBytes = 2048;

    private readonly SshArgv _ssh;
    private readonly TimeSpan _idleTimeout;
    private readonly Task<PipelineResult> _pipeline;
    private readonly TaskCompletionSource _close;
    private readonly TaskCompletionSource _doneReading;
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly byte[] _buffer = new byte[MaxLineBytes + 1];
    private Stream? _stdin;
    private Stream? _stdout;
    private int _start;
    private int _end;
    private bool _over;
    private PipelineResult? _result;
    private long _lastAnswer = System.Diagnostics.Stopwatch.GetTimestamp();

    private ReceiverSession(SshArgv ssh, TimeSpan idleTimeout, Task<PipelineResult> pipeline, TaskCompletionSource close, TaskCompletionSource doneReading)
    {
        _doneReading = doneReading;
        _ssh = ssh;
        _idleTimeout = idleTimeout;
        _pipeline = pipeline;
        _close = close;
    }

    /// <summary>False once the session ended (an ERR, EOF, a failure, or <see cref="EndAsync"/>): later requests need their own connection.</summary>
    public bool IsUsable => !_over;

    /// <summary>Requests answered completely (up to their DONE line).</summary>
    public int Answered { get; private set; }

    /// <summary>How long the session has waited since its last answer (the receiver gives up after its IDLE_TIMEOUT_SECONDS).</summary>
    public TimeSpan SinceLastAnswer => System.Diagnostics.Stopwatch.GetElapsedTime(_lastAnswer);

    /// <summary>True once the receiver's stdout ended (EOF, possibly inside a line) while an answer was awaited: the connection, not the answer, failed.</summary>
    public bool ConnectionEnded { get; private set; }

    /// <summary>The ERR line that ended the session, if one did.</summary>
    public string? ErrLine { get; private set; }

    /// <summary>
    /// ssh's stdin, for an upload's BSF1 stream after <see cref="SendLineAsync"/>. A write after the
    /// session closed (the receiver refused and ended it, or the connection broke) throws
    /// <see cref="SessionClosedException"/>, an <see cref="IOException"/>.
    /// </summary>
    public Stream Input => _stdin ?? throw new InvalidOperationException("the session is not started");

    /// <summary>
    /// Starts <c>ssh ... -- session</c> (or <paramref name="argv"/>, a stand-in for it in tests); its stdin
    /// and stdout stay open until <see cref="EndAsync"/>.
    /// </summary>
    public static async Task<ReceiverSession> StartAsync(SshArgv ssh, TimeSpan idleTimeout, IReadOnlyList<string>? argv = null)
    {
        var stdin = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var close = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var doneReading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var pipeline = StreamPipeline.RunAsync(
            [
                new CodeStage("session requests", async stage =>
                {
                    stdin.TrySetResult(stage.Output);
                    await close.Task.WaitAsync(stage.CancellationToken); // returning closes ssh's stdin: the receiver sees EOF and ends the session
                }),
                new ProcessStage(argv ?? ssh.For(SessionRequest.VerbText)) { ChecksExitCode = false, IsKilledOnFailure = false },
                new CodeStage("session answers", async stage =>
                {
                    stdout.TrySetResult(stage.Input);
                    await doneReading.Task.WaitAsync(stage.CancellationToken);
                }),
            ],
            CancellationToken.None);
        var session = new ReceiverSession(ssh, idleTimeout, pipeline, close, doneReading);
        var both = Task.WhenAll(stdin.Task, stdout.Task);
        if (await Task.WhenAny(both, pipeline) != both)
        {
            var result = await pipeline;
            throw new TransferFailedException($"cannot start ssh to the receiver at {ssh.Target}: {result.Failure?.Message ?? "ssh ended at once"}");
        }

        session._stdin = new SessionInput(await stdin.Task, ssh.Target);
        session._stdout = await stdout.Task;
        return session;
    }

    /// <summary>
    /// Sends a request without an upload (an open-luks key is framed as BSF1) and returns its answer
    /// lines before DONE, as a single-verb answer's stdout; an ERR or a failed ssh throws as there.
    /// </summary>
    public async Task<ToolResult> RunAsync(Request request, ReadOnlyMemory<byte> payload, ReceiverClient client, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        try
        {
            await SendLineAsync(request, cancellationToken);
            if (request is OpenLuksRequest)
            {
                await SendKeyAsync(payload, cancellationToken);
            }

            var lines = await ReadAnswerAsync(request, client, cancellationToken);
            return new ToolResult(_ssh.For(SessionRequest.VerbText), 0, Joined(lines), "", TimeSpan.Zero);
        }
        finally
        {
            _turn.Release();
        }
    }

    /// <summary>open-luks's key, framed as BSF1. A receiver that refused the request closed the session: its answer, read next, says why.</summary>
    private async Task SendKeyAsync(ReadOnlyMemory<byte> key, CancellationToken cancellationToken)
    {
        try
        {
            await using var framed = new Bsf1Writer(Input, frameLength: OpenLuksRequest.MaxKeyBytes, leaveOpen: true);
            await framed.WriteAsync(key, cancellationToken);
            await framed.CompleteAsync(cancellationToken);
            await Input.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            // The session is closed (SessionClosedException): the receiver's ERR line, or its silence, is the answer.
        }
    }

    /// <summary>Writes one request line; the caller writes its payload to <see cref="Input"/>, if it has one.</summary>
    public async Task SendLineAsync(Request request, CancellationToken cancellationToken)
    {
        if (_over)
        {
            throw new InvalidOperationException("the session is over");
        }

        try
        {
            await Input.WriteAsync(Encoding.ASCII.GetBytes(request.ToCommandLine() + "\n"), cancellationToken);
            await Input.FlushAsync(cancellationToken);
        }
        catch (IOException)
        {
            // The receiver is gone: its answer (ERR, or nothing) and ssh's exit say why; reading it comes next.
        }
    }

    /// <summary>
    /// Reads the answer to <paramref name="request"/> up to its DONE line, giving up after IDLE_TIMEOUT_SECONDS
    /// of silence. An ERR line or the end of the connection ends the session and throws the error
    /// <see cref="ReceiverClient.ThrowIfFailed"/> maps it to.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReadAnswerAsync(Request request, ReceiverClient client, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        long bytes = 0;
        while (true)
        {
            string? line;
            try
            {
                line = await ReadLineAsync(request, cancellationToken);
            }
            catch
            {
                _over = true;
                throw;
            }

            if (line is null)
            {
                _over = true;
                ConnectionEnded = true;
                var (exit, stderr) = await EndCoreAsync();
                client.ThrowIfFailed(exit ?? -1, Joined(lines), stderr, request);
                throw new TransferFailedException($"the receiver at {_ssh.Target} ended the session without finishing its answer to '{request.Verb}' (no DONE line); {(lines.Count == 0 ? "it said nothing" : $"the last line: '{Shown(lines[^1])}'")}");
            }

            if (SessionRules.ParseDone(line) is { } verb)
            {
                if (verb != request.Verb)
                {
                    _over = true;
                    throw new TransferFailedException($"the receiver at {_ssh.Target} ended its answer to '{request.Verb}' with '{Shown(line)}'; a session answers each request in turn: refusing to go on");
                }

                Answered++;
                _lastAnswer = System.Diagnostics.Stopwatch.GetTimestamp();
                return lines;
            }

            lines.Add(line);
            bytes += line.Length + 1;
            if (line.StartsWith("ERR ", StringComparison.Ordinal))
            {
                // A refusal ends the session: nothing may follow it but EOF.
                _over = true;
                ErrLine = NameText.Printable(line);
                var (exit, stderr) = await EndCoreAsync();
                client.ThrowIfFailed(exit ?? -1, Joined(lines), stderr, request);
                throw new TransferFailedException($"the receiver at {_ssh.Target} answered '{request.Verb}' with an ERR line this producer cannot read ('{Shown(line)}')");
            }

            if (bytes > ToolRunner.MaxCapturedStdout)
            {
                _over = true;
                throw new TransferFailedException($"the receiver at {_ssh.Target} answered '{request.Verb}' with more than {ToolRunner.MaxCapturedStdout} bytes without a DONE line; refusing to go on");
            }
        }
    }

    /// <summary>Ends the session: closes ssh's stdin (the receiver ends at EOF) and waits for ssh; anything the receiver still says is a failure.</summary>
    public async Task EndAsync()
    {
        if (_result is not null)
        {
            return;
        }

        var wasOver = _over;
        _over = true;
        var extra = wasOver ? null : await TryReadExtraAsync();
        var (exit, stderr) = await EndCoreAsync();
        if (wasOver)
        {
            return;
        }

        if (extra is not null)
        {
            throw new TransferFailedException($"the receiver at {_ssh.Target} said more after its last answer ('{Shown(extra)}'); a session answers each request once");
        }

        if (exit != 0)
        {
            throw new TransferFailedException($"the session with the receiver at {_ssh.Target} ended with exit code {exit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} after its last answer: {StderrTail.LastLines(stderr)}");
        }
    }

    /// <summary>Closes ssh's stdin after a failed upload, without a trailer, so the receiver sees the stream cut and answers ERR; the session is over.</summary>
    public Task AbandonAsync()
    {
        _over = true;
        return CloseStdinAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _over = true;
        await EndCoreAsync();
        _turn.Dispose();
    }

    /// <summary>The first line the receiver sent after its last answer, or null when its stdout ended there (read within IDLE_TIMEOUT_SECONDS of closing stdin).</summary>
    private async Task<string?> TryReadExtraAsync()
    {
        await CloseStdinAsync();
        try
        {
            return await ReadLineAsync(new SessionRequest(), CancellationToken.None);
        }
        catch (BtrfsSendException ex)
        {
            return ex.Message;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private async Task CloseStdinAsync()
    {
        if (_close.Task.IsCompleted)
        {
            return; // closed already (by us, or by the pipeline ending)
        }

        try
        {
            if (_stdin is not null)
            {
                await _stdin.FlushAsync();
            }
        }
        catch (IOException)
        {
            // The receiver is already gone.
        }

        _close.TrySetResult();
    }

    private async Task<(int? ExitCode, string StderrTail)> EndCoreAsync()
    {
        if (_result is null)
        {
            await CloseStdinAsync();
            _doneReading.TrySetResult();
            using var wait = new CancellationTokenSource(_idleTimeout);
            try
            {
                _result = await _pipeline.WaitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                return (null, $"ssh did not end within {_idleTimeout.TotalSeconds:0} seconds of the session's end");
            }
        }

        var ssh = _result.Stages[1];
        return (ssh.ExitCode, ssh.StandardErrorTail);
    }

    /// <summary>One answer line without its LF, or null at EOF before its first byte; a longer or cut line, or a stall, throws.</summary>
    private async Task<string?> ReadLineAsync(Request request, CancellationToken cancellationToken)
    {
        var stdout = _stdout ?? throw new InvalidOperationException("the session is not started");
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(_idleTimeout);
        try
        {
            while (true)
            {
                var lf = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (lf >= 0)
                {
                    var line = Encoding.Latin1.GetString(_buffer, _start, lf - _start);
                    _start = lf + 1;
                    return line;
                }

                if (_end - _start > MaxLineBytes)
                {
                    throw new TransferFailedException($"the receiver at {_ssh.Target} answered '{request.Verb}' with a line longer than {MaxLineBytes} bytes ('{Shown(Encoding.Latin1.GetString(_buffer, _start, 80))}'); refusing to go on");
                }

                if (_start > 0)
                {
                    Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                var n = await stdout.ReadAsync(_buffer.AsMemory(_end), idle.Token);
                if (n == 0)
                {
                    if (_end == _start)
                    {
                        return null;
                    }

                    var cut = Encoding.Latin1.GetString(_buffer, _start, _end - _start);
                    _start = _end;
                    ConnectionEnded = true;
                    throw new TransferFailedException($"the receiver at {_ssh.Target} ended the session inside a line of its answer to '{request.Verb}' ('{Shown(cut)}'); refusing to go on");
                }

                _end += n;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IdleTimeoutException($"the receiver at {_ssh.Target} did not answer '{request.Verb}' within {_idleTimeout.TotalSeconds:0} seconds (IDLE_TIMEOUT_SECONDS); the request was abandoned; check the backup server");
        }
    }

    private static string Joined(IReadOnlyList<string> lines) => lines.Count == 0 ? "" : string.Join('\n', lines) + "\n";

    private static string Shown(string line) => NameText.Printable(line.Length > 80 ? line[..80] : line);
}

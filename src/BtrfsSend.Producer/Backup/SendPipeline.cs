using System.Buffers;
using System.Diagnostics;
using System.Text;
using BtrfsSend.Core.Binding;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Remote;
using CliWrap;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// One streaming pipeline with bounded memory:
/// <c>btrfs send</c> → send-stream validator → [zstd] → [OpenPGP encryption, binding in the literal
/// packet, signed in public-key mode] → BSF1 framing + SHA-256 →
/// <c>ssh ... -- "receive-stream ..."</c> (encrypted-stream mode) or <c>"receive ..."</c>
/// (remote-btrfs mode, no encryption: the stream lands in the LUKS volume on the backup server).
/// The BSF1 trailer — the only thing that lets the receiver commit — goes out only after
/// <c>btrfs send</c> exited 0, the validator saw END and the encryptor wrote its MDC
/// (docs/architecture.md, pipe trap 2). Every stage's failure is recorded by the stage itself and checked
/// after the processes ended, because CliWrap swallows a broken pipe on a child's stdin (trap 1).
/// Success is only the receiver's <c>OK</c> line matching the bytes and SHA-256 this side framed.
/// </summary>
/// <remarks>
/// Plumbing, for CPU per GiB: the child pipes are enlarged to 1 MiB, and each copy stage is one
/// synchronous loop on its own thread (1 MiB pooled buffer; validate, encrypt, frame and write to
/// ssh's stdin all happen in that loop), instead of an async hop per 64 KiB pipe read.
/// </remarks>
internal sealed class SendPipeline(ReceiverClient receiver, ILogger log)
{
    internal const int BufferSize = 1024 * 1024;

    /// <summary>zstd level 3 on all cores, quiet, to stdout: the format <c>zstd -d</c> reads.</summary>
    internal static readonly string[] ZstdArgv = ["zstd", "-q", "-c", "-3", "-T0"];

    /// <summary>
    /// Runs the pipeline for <paramref name="request"/>, a <see cref="ReceiveStreamRequest"/> with
    /// <paramref name="keys"/> (encrypted-stream mode) or a <see cref="ReceiveRequest"/> without (remote-btrfs).
    /// </summary>
    public async Task<SendResult> RunAsync(
        IReadOnlyList<string> sendArgv,
        Request request,
        EncryptionKeys? keys,
        StreamCompression compression = StreamCompression.None,
        IProgress<long>? progress = null,
        CancellationToken cancellationToken = default,
        StreamBinding? binding = null)
    {
        if (request is not (ReceiveStreamRequest or ReceiveRequest))
        {
            throw new ArgumentException($"the send pipeline carries receive-stream or receive, not {request.Verb}", nameof(request));
        }

        if (keys is null && compression != StreamCompression.None)
        {
            throw new ArgumentException("compression applies only to encrypted streams", nameof(compression));
        }

        var nothingStored = keys is null ? "nothing was received" : "the receiver committed nothing";
        var started = Stopwatch.GetTimestamp();
        var sshArgv = receiver.Ssh.For(request.ToCommandLine());
        var sshStdout = new StringBuilder();
        var sshStderr = new TailBuffer();
        var sendStderr = new TailBuffer();
        Exception? stageFailure = null;
        var trailerSent = false;
        long plaintext = 0;
        long storedBytes = 0;
        string? storedSha = null;
        int? sendExit = null;

        using var sendCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // IDLE_TIMEOUT_SECONDS from the end of our stream to the receiver's answer: a stalled or
        // hostile receiver that reads everything and never answers must not hold the run forever.
        using var answerWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var feedStarted = false;
        var feedDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The first failure wins; stages on other threads record theirs here.
        void Fail(Exception ex) => Interlocked.CompareExchange(ref stageFailure, ex, null);

        // One copy stage: a synchronous loop on a dedicated thread. A failure (bad stream, broken
        // pipe to the receiver) stops btrfs send, so no trailer is sent.
        Task PumpAsync(Stream source, Stream destination, bool countsPlaintext)
        {
            PipeCapacity.TryEnlarge(source);
            return Task.Factory.StartNew(
                () =>
                {
                    var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                    try
                    {
                        int n;
                        while ((n = source.Read(buffer, 0, BufferSize)) > 0)
                        {
                            destination.Write(buffer, 0, n);
                            if (countsPlaintext)
                            {
                                plaintext += n;
                                progress?.Report(plaintext);
                            }
                        }
                    }
                    catch (Exception ex)
                    {
                        Fail(ex);
                        sendCancel.Cancel();
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        // btrfs send → validator → sink. True when btrfs send exited 0 and the validator saw a clean END.
        async Task<bool> SendValidatedAsync(Stream sink)
        {
            // btrfs send must write the protocol this request declares (proto=), or the manifest would lie.
            var declaredProto = request switch
            {
                ReceiveStreamRequest r => r.Declared.SendProto,
                ReceiveRequest r => r.Declared.SendProto,
                _ => 1,
            };
            await using var validated = SendStreamValidatingStream.ForWriting(sink, leaveOpen: true, expectedVersion: declaredProto);
            try
            {
                var send = await Cli.Wrap(sendArgv[0]).WithArguments(sendArgv.Skip(1))
                    .WithValidation(CommandResultValidation.None)
                    .WithStandardOutputPipe(PipeTarget.Create((sendStdout, _) => PumpAsync(sendStdout, validated, countsPlaintext: true)))
                    .WithStandardErrorPipe(PipeTarget.Create(sendStderr.CopyFromAsync))
                    .ExecuteAsync(sendCancel.Token);
                sendExit = send.ExitCode;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && stageFailure is not null)
            {
                // We stopped btrfs send ourselves after a stage failed.
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (stageFailure is not null)
            {
                return false;
            }

            if (sendExit != 0)
            {
                Fail(new ToolFailedException(sendArgv, sendExit ?? -1, sendStderr.Text));
                return false;
            }

            try
            {
                validated.Complete(); // throws unless the stream ended right after END
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Fail(ex);
                return false;
            }
        }

        // COMPRESSION=zstd: the validated send stream goes through `zstd`, whose output is what gets encrypted
        // (restore by hand: gpg -d | zstd -d | btrfs receive).
        async Task<bool> SendCompressedAsync(Stream encrypted)
        {
            var sendOk = false;
            var zstdStderr = new TailBuffer();
            try
            {
                var zstd = await Cli.Wrap(ZstdArgv[0]).WithArguments(ZstdArgv.Skip(1))
                    .WithValidation(CommandResultValidation.None)
                    .WithStandardInputPipe(PipeSource.Create(async (zstdStdin, _) =>
                    {
                        PipeCapacity.TryEnlarge(zstdStdin);
                        sendOk = await SendValidatedAsync(zstdStdin);
                    }))
                    .WithStandardOutputPipe(PipeTarget.Create((zstdStdout, _) => PumpAsync(zstdStdout, encrypted, countsPlaintext: false)))
                    .WithStandardErrorPipe(PipeTarget.Create(zstdStderr.CopyFromAsync))
                    .ExecuteAsync(sendCancel.Token);
                if (zstd.ExitCode != 0)
                {
                    Fail(new ToolFailedException(ZstdArgv, zstd.ExitCode, zstdStderr.Text));
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && stageFailure is not null)
            {
            }

            cancellationToken.ThrowIfCancellationRequested();
            return sendOk && stageFailure is null;
        }

        async Task FeedSshAsync(Stream sshStdin, CancellationToken _)
        {
            feedStarted = true;
            try
            {
                PipeCapacity.TryEnlarge(sshStdin);
                await using var framed = new Bsf1Writer(sshStdin, leaveOpen: true);
                await using var encrypted = keys is null ? null : await OpenPgpEncryption.CreateAsync(framed, keys, binding?.Render() ?? "", cancellationToken);
                Stream sink = encrypted is null ? framed : encrypted;
                var complete = compression == StreamCompression.Zstd
                    ? await SendCompressedAsync(sink)
                    : await SendValidatedAsync(sink);
                if (!complete || stageFailure is not null)
                {
                    return;
                }

                if (encrypted is not null)
                {
                    await encrypted.FinishAsync(cancellationToken);
                }

                await framed.CompleteAsync(cancellationToken);
                storedBytes = framed.PayloadBytes;
                storedSha = framed.Sha256Hex;
                trailerSent = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Fail(ex);
            }
            finally
            {
                answerWait.CancelAfter(receiver.IdleTimeout);
                feedDone.TrySetResult();
            }
        }

        CommandResult ssh;
        try
        {
            ssh = await Cli.Wrap(sshArgv[0]).WithArguments(sshArgv.Skip(1))
                .WithValidation(CommandResultValidation.None)
                .WithStandardInputPipe(PipeSource.Create(FeedSshAsync))
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(sshStdout))
                .WithStandardErrorPipe(PipeTarget.Create(sshStderr.CopyFromAsync))
                .ExecuteAsync(answerWait.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && answerWait.IsCancellationRequested)
        {
            var sent = trailerSent ? "after the whole stream was sent" : "after the stream stopped";
            throw new IdleTimeoutException(
                $"the receiver at {receiver.Ssh.Target} did not answer '{request.Verb}' within {receiver.IdleTimeout.TotalSeconds:0} seconds {sent} (IDLE_TIMEOUT_SECONDS); the upload was abandoned and is not recorded as done (the next run sends again)");
        }
        finally
        {
            // CliWrap returns when ssh exits, without waiting for the stdin feed: when the receiver
            // answered early (e.g. ERR exists), btrfs send may still be running. Stop it and wait,
            // or it keeps the snapshot busy and deleting it fails with EPERM ("send may be in progress").
            if (feedStarted && !feedDone.Task.IsCompleted)
            {
                Fail(new IOException("the receiver's end closed before the whole stream was sent"));
                await sendCancel.CancelAsync();
                await feedDone.Task;
            }
        }

        // A receiver that refused before reading (exists, busy, ...) breaks our pipe: its answer is the real reason.
        // But when a stage of ours failed first (bad send stream, btrfs send died), the receiver's
        // "truncated" is only the consequence of our stopping: report our own failure.
        var stdout = sshStdout.ToString();
        if (stageFailure is null or IOException && ResponseLine.Parse(ReceiverClient.LastLine(stdout)).Value is ErrLine)
        {
            receiver.ThrowIfFailed(ssh.ExitCode, stdout, sshStderr.Text, request);
        }

        if (stageFailure is not null)
        {
            var receiverSaid = ReceiverClient.LastLine(stdout);
            throw stageFailure switch
            {
                SendStreamException bad => new IntegrityException(
                    $"btrfs send produced a bad stream ({bad.Message}); no trailer was sent, so {nothingStored}", bad),
                BtrfsSendException known when known is not ToolFailedException => new TransferFailedException(
                    $"{known.Message}; no trailer was sent, so {nothingStored} (it said: {(receiverSaid.Length > 0 ? receiverSaid : "nothing")})", known),
                ToolFailedException tool => new TransferFailedException($"{tool.Message}; no trailer was sent, so {nothingStored}", tool),
                IOException io => new TransferFailedException(
                    $"the connection to the receiver broke while sending ({io.Message}); receiver said: {(receiverSaid.Length > 0 ? receiverSaid : "nothing")}; ssh: {Tail(sshStderr.Text)}; nothing was committed", io),
                _ => new TransferFailedException($"the send pipeline failed: {stageFailure.Message}; nothing was committed", stageFailure),
            };
        }

        // ssh died (255: keepalive timeout, reset) after our whole stream, trailer included, sat in the
        // pipe and socket buffers, and before any answer: the receiver may or may not have committed it.
        // Not "cannot reach the receiver" (it was reached) and not "nothing was committed" (unknown).
        if (ssh.ExitCode == 255 && trailerSent && ResponseLine.Parse(ReceiverClient.LastLine(stdout)).Value is null)
        {
            throw new TransferFailedException(
                $"the connection to the receiver broke after the whole stream was sent, before the receiver answered (ssh: {Tail(sshStderr.Text)}); the backup is not recorded as done and the next run sends again (a copy the receiver may have committed stays stored, unused as a parent)");
        }

        receiver.ThrowIfFailed(ssh.ExitCode, stdout, sshStderr.Text, request);
        if (!trailerSent)
        {
            throw new TransferFailedException("the stream ended without a trailer (a stage stopped early); nothing was committed");
        }

        var answerLines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        if (answerLines > 1)
        {
            throw new TransferFailedException($"the receiver answered {answerLines} lines, not one OK line (the last: '{Core.Naming.NameText.Printable(ReceiverClient.LastLine(stdout))}'); the backup is not recorded as done");
        }

        var answer = ResponseLine.Parse(ReceiverClient.LastLine(stdout)).Value as OkLine
            ?? throw new TransferFailedException($"the receiver exited 0 but did not answer OK ('{Core.Naming.NameText.Printable(ReceiverClient.LastLine(stdout))}'); the backup is not recorded as done");
        if (!answer.Matches(storedSha!, storedBytes))
        {
            throw new IntegrityException($"the receiver stored {answer.Bytes} bytes with SHA-256 {answer.Sha256Hex}, but {storedBytes} bytes with SHA-256 {storedSha} were sent; the backup is not recorded as done");
        }

        var duration = Stopwatch.GetElapsedTime(started);
        log.Debug("pipeline finished: {Plain} plaintext bytes, {Stored} stored bytes in {Seconds:F1} s", plaintext, storedBytes, duration.TotalSeconds);
        return new SendResult(plaintext, storedBytes, storedSha!, duration);
    }

    private static string Tail(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(nothing on stderr)" : string.Join(" | ", lines.TakeLast(2));
    }
}

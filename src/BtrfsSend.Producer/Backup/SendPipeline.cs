using System.Diagnostics;
using BtrfsSend.Core.Binding;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Streams;
using BtrfsSend.Producer.Connection;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// One streaming pipeline with bounded memory:
/// <c>btrfs send</c> → send-stream validator → [zstd] → [OpenPGP encryption, binding in the literal
/// packet, signed in public-key mode] → BSF1 framing + SHA-256 → [BWLIMIT's token bucket] →
/// <c>ssh ... -- "receive-stream ..."</c> (encrypted-stream mode) or <c>"receive ..."</c>
/// (remote-btrfs mode, no encryption: the stream lands in the LUKS volume on the backup server).
/// The BSF1 trailer — the only thing that lets the receiver commit — goes out only after
/// <c>btrfs send</c> exited 0, the validator saw END and the encryptor wrote its MDC
/// (docs/architecture.md, pipe trap 2): the stage that frames awaits
/// <see cref="StageContext.UpstreamSucceededAsync"/> first. The stages run on <see cref="StreamPipeline"/>,
/// which owns first-failure-wins, the 1 MiB pipes and broken-pipe detection (trap 1); ssh is not killed
/// when a stage fails, so the receiver sees the stream end without a trailer and says so.
/// Success is only the receiver's <c>OK</c> line matching the bytes and SHA-256 this side framed.
/// </summary>
/// <remarks>
/// Plumbing, for CPU per GiB: each copy is one synchronous loop on its own thread
/// (<see cref="StreamPipeline.Pump"/>; validate, encrypt, frame and write to ssh's stdin all happen in
/// that loop), instead of an async hop per 64 KiB pipe read.
/// </remarks>
internal sealed class SendPipeline(ReceiverClient receiver, ILogger log)
{
    internal const int BufferSize = StreamPipeline.BufferSize;

    /// <summary>zstd level 3 on all cores, quiet, to stdout: the format <c>zstd -d</c> reads.</summary>
    internal static readonly string[] ZstdArgv = ["zstd", "-q", "-c", "-3", "-T0"];

    /// <summary>BWLIMIT: the bytes going to ssh (framed, encrypted or raw) move at most this fast, in bytes per second; null: no limit.</summary>
    public long? BandwidthLimit { get; init; }

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
        var declaredProto = DeclaredProto(request, keys, compression);
        var started = Stopwatch.GetTimestamp();
        long plaintext = 0;
        Trailer? trailer = null;
        var count = new Action<int>(n =>
        {
            plaintext += n;
            progress?.Report(plaintext);
        });

        // The run's session, if it has one: the request line, then the BSF1 stream, on its connection.
        var session = await receiver.SessionAsync();

        // IDLE_TIMEOUT_SECONDS from the end of our stream to the receiver's answer: a stalled or
        // hostile receiver that reads everything and never answers must not hold the run forever.
        using var answerWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        async Task FrameThenWaitForAnswer(StageContext stage, Func<Stream, Task> writePlaintext)
        {
            try
            {
                trailer = await EncryptAndFrameAsync(stage, session?.Input ?? stage.Output, keys, binding, BandwidthLimit, writePlaintext);
            }
            finally
            {
                answerWait.CancelAfter(receiver.IdleTimeout);
            }
        }

        var stages = SendStages(sendArgv, compression, declaredProto, count, FrameThenWaitForAnswer);
        if (session is null)
        {
            // Not killed when a stage fails: its stdin then ends without a trailer, and the receiver says "truncated".
            stages.Add(new ProcessStage(receiver.Ssh.For(request.ToCommandLine())) { ChecksExitCode = false, IsKilledOnFailure = false });
        }
        else
        {
            await session.SendLineAsync(request, cancellationToken);
        }

        PipelineResult result;
        try
        {
            result = await StreamPipeline.RunAsync(stages, answerWait.Token);
        }
        catch when (session is not null)
        {
            await session.AbandonAsync(); // cancelled: the receiver sees the stream cut, as when ssh is killed
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && answerWait.IsCancellationRequested)
        {
            var sent = trailer is not null ? "after the whole stream was sent" : "after the stream stopped";
            throw new IdleTimeoutException(
                $"the receiver at {receiver.Ssh.Target} did not answer '{request.Verb}' within {receiver.IdleTimeout.TotalSeconds:0} seconds {sent} (IDLE_TIMEOUT_SECONDS); the upload was abandoned and is not recorded as done (the next run sends again)");
        }

        var nothingStored = keys is null ? "nothing was received" : "the receiver committed nothing";
        var stored = session is null
            ? Conclude(result, request, nothingStored, trailer)
            : await ConcludeInSessionAsync(result, session, request, nothingStored, trailer, cancellationToken);
        var duration = Stopwatch.GetElapsedTime(started);
        log.Debug("pipeline finished: {Plain} plaintext bytes, {Stored} stored bytes in {Seconds:F1} s", plaintext, stored.Bytes, duration.TotalSeconds);
        return new SendResult(plaintext, stored.Bytes, stored.Sha256Hex, duration);
    }

    /// <summary>
    /// btrfs send → [validator → zstd →] the stage that validates (unless zstd did), encrypts and
    /// frames through <paramref name="frame"/>; the ssh stage or the session comes after.
    /// </summary>
    private static List<PipelineStage> SendStages(IReadOnlyList<string> sendArgv, StreamCompression compression, int declaredProto, Action<int> count, Func<StageContext, Func<Stream, Task>, Task> frame)
    {
        List<PipelineStage> stages = [new ProcessStage(sendArgv)];
        if (compression == StreamCompression.Zstd)
        {
            // COMPRESSION=zstd: the validated send stream goes through `zstd`, whose output is what gets encrypted
            // (restore by hand: gpg -d | zstd -d | btrfs receive).
            stages.Add(new CodeStage("send-stream validator", stage => ValidateAsync(stage, stage.Output, declaredProto, count)));
            stages.Add(new ProcessStage(ZstdArgv));
            stages.Add(new CodeStage("encryption and framing", stage =>
                frame(stage, sink => StreamPipeline.Pump(stage.Input, sink))));
        }
        else
        {
            stages.Add(new CodeStage("validation, encryption and framing", stage =>
                frame(stage, sink => ValidateAsync(stage, sink, declaredProto, count))));
        }

        return stages;
    }

    /// <summary>
    /// The send protocol <paramref name="request"/> declares (proto=), which btrfs send must write or
    /// the manifest would lie; throws for a request or a combination the pipeline does not carry.
    /// </summary>
    private static int DeclaredProto(Request request, EncryptionKeys? keys, StreamCompression compression)
    {
        if (request is not (ReceiveStreamRequest or ReceiveRequest))
        {
            throw new ArgumentException($"the send pipeline carries receive-stream or receive, not {request.Verb}", nameof(request));
        }

        if (keys is null && compression != StreamCompression.None)
        {
            throw new ArgumentException("compression applies only to encrypted streams", nameof(compression));
        }

        return request switch
        {
            ReceiveStreamRequest r => r.Declared.SendProto,
            ReceiveRequest r => r.Declared.SendProto,
            _ => 1,
        };
    }

    /// <summary>btrfs send's output → validator → <paramref name="sink"/>; END is checked only after btrfs send exited 0.</summary>
    private static async Task ValidateAsync(StageContext stage, Stream sink, int declaredProto, Action<int> count)
    {
        await using var validated = SendStreamValidatingStream.ForWriting(sink, leaveOpen: true, expectedVersion: declaredProto);
        await StreamPipeline.Pump(stage.Input, validated, count);
        await stage.UpstreamSucceededAsync();
        validated.Complete(); // throws unless the stream ended right after END
    }

    /// <summary>
    /// [OpenPGP encryption] → BSF1 framing → [BWLIMIT] → ssh's stdin. The MDC and the trailer are
    /// written only after every earlier stage succeeded (trap 2).
    /// </summary>
    private static async Task<Trailer> EncryptAndFrameAsync(StageContext stage, Stream output, EncryptionKeys? keys, StreamBinding? binding, long? bandwidthLimit, Func<Stream, Task> writePlaintext)
    {
        var cancellationToken = stage.CancellationToken;
        await using var framed = new Bsf1Writer(BandwidthLimitedStream.Wrap(output, bandwidthLimit, TimeProvider.System), leaveOpen: true);
        await using var encrypted = keys is null ? null : await OpenPgpEncryption.CreateAsync(framed, keys, binding?.Render() ?? "", cancellationToken);
        await writePlaintext(encrypted is null ? framed : encrypted);
        await stage.UpstreamSucceededAsync();
        if (encrypted is not null)
        {
            await encrypted.FinishAsync(cancellationToken);
        }

        await framed.CompleteAsync(cancellationToken);
        await output.FlushAsync(cancellationToken);
        return new Trailer(framed.PayloadBytes, framed.Sha256Hex);
    }

    /// <summary>Turns the pipeline's outcome and the receiver's answer into the stored stream, or the one error that explains why there is none.</summary>
    private Trailer Conclude(PipelineResult result, Request request, string nothingStored, Trailer? trailer)
    {
        var ssh = result.Stages[^1];
        var stdout = ssh.StandardOutput;
        var sshExit = ssh.ExitCode ?? -1;
        var receiverSaid = ReceiverClient.LastLine(stdout);
        var answer = ResponseLine.Parse(receiverSaid).Value;

        // A receiver that refused before reading (exists, busy, ...) breaks our pipe: its answer is the real reason.
        // But when a stage of ours failed first (bad send stream, btrfs send died), the receiver's
        // "truncated" is only the consequence of our stopping: report our own failure.
        if (result.Failure is null or IOException && answer is ErrLine)
        {
            receiver.ThrowIfFailed(sshExit, stdout, ssh.StandardErrorTail, request);
        }

        if (result.Failure is { } failure)
        {
            throw OwnFailure(failure, nothingStored, receiverSaid.Length > 0 ? receiverSaid : "nothing", ssh.StandardErrorTail);
        }
        // ssh died (255: keepalive timeout, reset) after our whole stream, trailer included, sat in the
        // pipe and socket buffers, and before any answer: the receiver may or may not have committed it.
        // Not "cannot reach the receiver" (it was reached) and not "nothing was committed" (unknown).
        if (sshExit == 255 && trailer is not null && answer is null)
        {
            throw new TransferFailedException(
                $"the connection to the receiver broke after the whole stream was sent, before the receiver answered (ssh: {StderrTail.LastLines(ssh.StandardErrorTail)}); the backup is not recorded as done and the next run sends again (a copy the receiver may have committed stays stored, unused as a parent)");
        }

        receiver.ThrowIfFailed(sshExit, stdout, ssh.StandardErrorTail, request);
        if (trailer is null)
        {
            throw new TransferFailedException("the stream ended without a trailer (a stage stopped early); nothing was committed");
        }

        var answerLines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        if (answerLines > 1)
        {
            throw new TransferFailedException($"the receiver answered {answerLines} lines, not one OK line (the last: '{Core.Naming.NameText.Printable(receiverSaid)}'); the backup is not recorded as done");
        }

        var ok = answer as OkLine
            ?? throw new TransferFailedException($"the receiver exited 0 but did not answer OK ('{Core.Naming.NameText.Printable(receiverSaid)}'); the backup is not recorded as done");
        if (!ok.Matches(trailer.Sha256Hex, trailer.Bytes))
        {
            throw new IntegrityException($"the receiver stored {ok.Bytes} bytes with SHA-256 {ok.Sha256Hex}, but {trailer.Bytes} bytes with SHA-256 {trailer.Sha256Hex} were sent; the backup is not recorded as done");
        }

        return trailer;
    }

    /// <summary>
    /// The session's counterpart of <see cref="Conclude"/>: after a failed stage the stream ends without
    /// a trailer (ssh's stdin is closed, the session is over) and the receiver's ERR explains it only when
    /// it refused before reading (our write then broke); else the answer must be exactly one OK line
    /// matching what was framed, then the session's DONE line.
    /// </summary>
    private async Task<Trailer> ConcludeInSessionAsync(PipelineResult result, ReceiverSession session, Request request, string nothingStored, Trailer? trailer, CancellationToken cancellationToken)
    {
        if (result.Failure is { } failure)
        {
            await session.AbandonAsync();
            BtrfsSendException? answered = null;
            try
            {
                await session.ReadAnswerAsync(request, receiver, CancellationToken.None);
            }
            catch (BtrfsSendException ex)
            {
                answered = ex;
            }

            // A receiver that refuses the request closes the session: our next write then fails
            // (the session's input reports that as an IOException), and its ERR line is the real answer.
            if (failure is IOException && session.ErrLine is not null && answered is not null)
            {
                throw answered;
            }

            throw OwnFailure(failure, nothingStored, session.ErrLine ?? "nothing", "");
        }

        IReadOnlyList<string> lines;
        try
        {
            lines = await session.ReadAnswerAsync(request, receiver, cancellationToken);
        }
        catch (TransferFailedException ex) when (trailer is not null && session.ErrLine is null && session.ConnectionEnded)
        {
            // The connection broke after our whole stream was sent, before any answer: the receiver
            // may or may not have committed it (not "cannot reach", not "nothing was committed").
            // A broken answer (a DONE for another verb, an overlong line) is reported as it is.
            throw new TransferFailedException(
                $"the connection to the receiver broke after the whole stream was sent, before the receiver answered ({ex.Message}); the backup is not recorded as done and the next run sends again (a copy the receiver may have committed stays stored, unused as a parent)", ex);
        }

        if (trailer is null)
        {
            throw new TransferFailedException("the stream ended without a trailer (a stage stopped early); nothing was committed");
        }

        if (lines.Count != 1)
        {
            throw new TransferFailedException($"the receiver answered {lines.Count} lines, not one OK line{(lines.Count == 0 ? "" : $" (the last: '{Core.Naming.NameText.Printable(lines[^1])}')")}; the backup is not recorded as done");
        }

        var ok = ResponseLine.Parse(lines[0]).Value as OkLine
            ?? throw new TransferFailedException($"the receiver did not answer OK ('{Core.Naming.NameText.Printable(lines[0])}'); the backup is not recorded as done");
        if (!ok.Matches(trailer.Sha256Hex, trailer.Bytes))
        {
            throw new IntegrityException($"the receiver stored {ok.Bytes} bytes with SHA-256 {ok.Sha256Hex}, but {trailer.Bytes} bytes with SHA-256 {trailer.Sha256Hex} were sent; the backup is not recorded as done");
        }

        return trailer;
    }

    /// <summary>A stage of ours failed: that is the reason reported, with what the receiver said after it.</summary>
    private static BtrfsSendException OwnFailure(Exception failure, string nothingStored, string said, string sshStderrTail) => failure switch
    {
        SendStreamException bad => new IntegrityException(
            $"btrfs send produced a bad stream ({bad.Message}); no trailer was sent, so {nothingStored}", bad),
        BtrfsSendException known when known is not ToolFailedException => new TransferFailedException(
            $"{known.Message}; no trailer was sent, so {nothingStored} (it said: {said})", known),
        ToolFailedException tool => new TransferFailedException($"{tool.Message}; no trailer was sent, so {nothingStored}", tool),
        IOException io => new TransferFailedException(
            $"the connection to the receiver broke while sending ({io.Message}); receiver said: {said}; ssh: {StderrTail.LastLines(sshStderrTail)}; nothing was committed", io),
        _ => new TransferFailedException($"the send pipeline failed: {failure.Message}; nothing was committed", failure),
    };

    /// <summary>What the BSF1 trailer said: the stored bytes and their SHA-256.</summary>
    private sealed record Trailer(long Bytes, string Sha256Hex);
}

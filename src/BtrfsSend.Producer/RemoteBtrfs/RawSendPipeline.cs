using System.Diagnostics;
using System.Text;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Remote;
using CliWrap;

namespace BtrfsSend.Producer.RemoteBtrfs;

/// <summary>
/// remote-btrfs transfer, streaming with bounded memory: <c>btrfs send</c> → send-stream validator →
/// BSF1 framing + SHA-256 → <c>ssh ... -- "receive ..."</c>. No encryption: the stream lands in
/// the LUKS volume on the backup server (the mode's trade-off). As in the encrypted pipeline, the
/// trailer goes out only after <c>btrfs send</c> exited 0 and the validator saw END, and success
/// is only an <c>OK</c> line matching what was framed.
/// </summary>
internal sealed class RawSendPipeline(ReceiverClient receiver)
{
    internal const int BufferSize = 1024 * 1024;

    public async Task<SendResult> RunAsync(IReadOnlyList<string> sendArgv, ReceiveRequest request, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var sshArgv = receiver.Ssh.For(request.ToCommandLine());
        var sshStdout = new StringBuilder();
        var sshStderr = new TailBuffer();
        var sendStderr = new TailBuffer();
        Exception? failure = null;
        var trailerSent = false;
        long bytes = 0;
        string? sha = null;
        using var sendCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var feedDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var feedStarted = false;

        async Task FeedAsync(Stream sshStdin, CancellationToken _)
        {
            feedStarted = true;
            try
            {
                await using var framed = new Bsf1Writer(sshStdin, leaveOpen: true);
                await using var validated = SendStreamValidatingStream.ForWriting(framed, leaveOpen: true);
                async Task CopyAsync(Stream sendStdout, CancellationToken token)
                {
                    try
                    {
                        await sendStdout.CopyToAsync(validated, BufferSize, token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        failure ??= ex;
                        await sendCancel.CancelAsync();
                    }
                }

                int? sendExit = null;
                try
                {
                    var send = await Cli.Wrap(sendArgv[0]).WithArguments(sendArgv.Skip(1))
                        .WithValidation(CommandResultValidation.None)
                        .WithStandardOutputPipe(PipeTarget.Create(CopyAsync))
                        .WithStandardErrorPipe(PipeTarget.Create(sendStderr.CopyFromAsync))
                        .ExecuteAsync(sendCancel.Token);
                    sendExit = send.ExitCode;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && failure is not null)
                {
                }

                cancellationToken.ThrowIfCancellationRequested();
                if (failure is not null)
                {
                    return;
                }

                if (sendExit != 0)
                {
                    failure = new ToolFailedException(sendArgv, sendExit ?? -1, sendStderr.Text);
                    return;
                }

                validated.Complete(); // throws unless the stream ended right after END
                await framed.CompleteAsync(cancellationToken);
                bytes = framed.PayloadBytes;
                sha = framed.Sha256Hex;
                trailerSent = true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failure ??= ex;
            }
            finally
            {
                feedDone.TrySetResult();
            }
        }

        CommandResult ssh;
        try
        {
            ssh = await Cli.Wrap(sshArgv[0]).WithArguments(sshArgv.Skip(1))
                .WithValidation(CommandResultValidation.None)
                .WithStandardInputPipe(PipeSource.Create(FeedAsync))
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(sshStdout))
                .WithStandardErrorPipe(PipeTarget.Create(sshStderr.CopyFromAsync))
                .ExecuteAsync(cancellationToken);
        }
        finally
        {
            // ssh may exit (receiver refused early) while btrfs send still runs: stop it and wait.
            if (feedStarted && !feedDone.Task.IsCompleted)
            {
                failure ??= new IOException("the receiver's end closed before the whole stream was sent");
                await sendCancel.CancelAsync();
                await feedDone.Task;
            }
        }

        var stdout = sshStdout.ToString();
        if (failure is null or IOException && ResponseLine.Parse(ReceiverClient.LastLine(stdout)).Value is ErrLine)
        {
            receiver.ThrowIfFailed(ssh.ExitCode, stdout, sshStderr.Text, request);
        }

        if (failure is not null)
        {
            throw failure switch
            {
                SendStreamException bad => new IntegrityException($"btrfs send produced a bad stream ({bad.Message}); no trailer was sent, so nothing was received", bad),
                ToolFailedException tool => new TransferFailedException($"{tool.Message}; no trailer was sent, so nothing was received", tool),
                _ => new TransferFailedException($"the send pipeline failed: {failure.Message}; nothing was received", failure),
            };
        }

        receiver.ThrowIfFailed(ssh.ExitCode, stdout, sshStderr.Text, request);
        if (!trailerSent)
        {
            throw new TransferFailedException("the stream ended without a trailer (a stage stopped early); nothing was received");
        }

        var answer = ResponseLine.Parse(ReceiverClient.LastLine(stdout)).Value as OkLine
            ?? throw new TransferFailedException($"the receiver exited 0 but did not answer OK ('{Core.Naming.NameText.Printable(ReceiverClient.LastLine(stdout))}'); the backup is not recorded as done");
        if (!answer.Matches(sha!, bytes))
        {
            throw new IntegrityException($"the receiver received {answer.Bytes} bytes with SHA-256 {answer.Sha256Hex}, but {bytes} bytes with SHA-256 {sha} were sent; the backup is not recorded as done");
        }

        return new SendResult(bytes, bytes, sha!, Stopwatch.GetElapsedTime(started));
    }
}

using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using BtrfsSend.Core.Streams;
using BtrfsSend.Receiver.Luks;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>receive &lt;set&gt; &lt;snapshot&gt; [parent]</c>: the BSF1-framed send stream goes into
/// <c>btrfs receive</c> in <c>RECEIVED_ROOT/&lt;set&gt;/</c>, under the volume's lock; the result is kept
/// only when it is exactly that name, read-only, with a received UUID (<see cref="ReceiveAttempt"/>);
/// anything else it created is deleted.
/// </summary>
internal sealed class ReceiveVerb(ServeContext context)
{
    public async Task<int> ServeAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        var session = LuksAccess.OpenSession(context);
        context.RequireAllowed(request.Set);
        RequireClockWithinSkew(request);
        using var volumeLock = LuksAccess.LockVolume(session);
        LuksAccess.RequireMounted(session);
        var store = LuksAccess.ReceivedStoreOf(context, session);
        var dir = SetDirectory.Create(session.ReceivedRootDirPath, request.Set);
        await using var attempt = await store.BeginReceiveAsync(request.Set, request.Snapshot, cancellationToken);
        await RequireAdmissibleAsync(request, store, attempt, cancellationToken);
        var (bytes, sha256) = await PipeIntoBtrfsReceiveAsync(dir, request.Declared.SendProto, cancellationToken);
        var verdict = await attempt.KeepAsync(cancellationToken);
        if (!verdict.CreatedExactlyTheSnapshot)
        {
            throw new ServeRefusal(ErrorCodes.BadSnapshot, $"the stream did not create exactly the subvolume '{request.Snapshot}' (it created: {string.Join(", ", verdict.CreatedNames.Select(NameText.Printable))}); nothing was kept");
        }

        if (!verdict.IsKept)
        {
            throw new ServeRefusal(ErrorCodes.Truncated, $"btrfs receive left '{request.Snapshot}' {(verdict.Subvolume!.IsReadOnly ? "without a received UUID" : "writable")}: not a finished receive; nothing was kept");
        }

        context.Log.Information("set {Set}: received {Snapshot}{Parent} ({Bytes} bytes) for client {Client}",
            request.Set, request.Snapshot, request.Parent is null ? "" : $" (parent {request.Parent})", bytes, context.ClientLabel);
        await context.WriteLineAsync(new OkLine(sha256, bytes).Render());
        return 0;
    }

    private void RequireClockWithinSkew(ReceiveRequest request)
    {
        var options = context.Options;
        var skew = request.Snapshot.TimestampUtc - context.Clock.GetUtcNow().UtcDateTime;
        if (skew.Duration() > options.MaxClockSkew)
        {
            throw new ServeRefusal(ErrorCodes.ClockSkew,
                $"snapshot time {request.Snapshot.TimestampUtc:yyyy-MM-ddTHH:mm:ssZ} is {RetentionPolicy.FormatDuration(skew.Duration())} away from the receiver's clock; allowed: within MAX_CLOCK_SKEW={RetentionPolicy.FormatDuration(options.MaxClockSkew)}");
        }
    }

    /// <summary>Refusals before a byte is read: the name is free, the parent is a finished receive, the volume has room.</summary>
    private async Task RequireAdmissibleAsync(ReceiveRequest request, ReceivedStore store, ReceiveAttempt attempt, CancellationToken cancellationToken)
    {
        if (Directory.Exists(attempt.TargetPath))
        {
            throw new ServeRefusal(ErrorCodes.Exists, $"snapshot '{request.Snapshot}' is already received in set '{request.Set}'; received snapshots are never overwritten");
        }

        if (request.Parent is { } parent && !await store.IsCompleteAsync(request.Set, parent, cancellationToken))
        {
            throw new ServeRefusal(ErrorCodes.MissingParent, $"parent '{parent}' of '{request.Snapshot}' is not received in set '{request.Set}' (or not complete); send a full stream instead");
        }

        var free = FreeSpace.AvailableBytes(attempt.SetDirPath);
        if (free < context.Options.MinFreeSpace)
        {
            throw new ServeRefusal(ErrorCodes.NoSpace, $"only {free} bytes free under {attempt.SetDirPath}, below MIN_FREE_SPACE={context.Options.MinFreeSpace}; nothing was received");
        }
    }

    /// <summary>
    /// BSF1 reader → send-stream validator → <c>btrfs receive -e</c>. The last buffer (holding END,
    /// on which btrfs receive finalizes the subvolume) is held back until the trailer's count and
    /// SHA-256 verified and the validator saw a clean END; on any failure btrfs receive is killed
    /// before it sees END, so a truncated stream never completes a receive.
    /// </summary>
    private async Task<(long Bytes, string Sha256)> PipeIntoBtrfsReceiveAsync(string setDirPath, int declaredSendProto, CancellationToken cancellationToken)
    {
        await using var reader = new Bsf1Reader(context.Input, context.Options.MaxStreamSize, leaveOpen: true);
        // The stream header must carry the protocol the producer declared (proto=, default 1).
        await using var validated = SendStreamValidatingStream.ForReading(reader, leaveOpen: true, expectedVersion: declaredSendProto);
        // --chroot: a hostile stream's path names cannot reach outside the set's directory.
        string[] argv = [BtrfsArgv.Btrfs, "receive", "-q", "-e", "--chroot", setDirPath];
        var result = await StreamPipeline.RunAsync(
            [
                // EOF from the validator: END seen, and the BSF1 trailer verified; nothing more to check.
                new CodeStage("held-back copy", stage => HoldBackCopy.CopyAsync(validated, stage.Output, _ => Task.CompletedTask, ServeSession.BufferSize, stage.CancellationToken)),
                new ProcessStage(argv) { MergesStdoutIntoStderr = true },
            ],
            cancellationToken);
        var receive = result.Stages[^1];
        var said = StderrTail.LastLines(receive.StandardErrorTail);
        switch (result.Failure)
        {
            case SendStreamException bad:
                throw new ServeRefusal(ErrorCodes.BadFrame, $"the payload is not a valid btrfs send stream ({bad.Message}); nothing was kept");
            case ToolFailedException failed when failed.Argv == argv:
                throw new ServeRefusal(ErrorCodes.IoError, $"btrfs receive failed (exit {failed.ToolExitCode}): {said}; nothing was kept");
            case PipeCutException:
                // CliWrap swallows a broken pipe on stdin (docs/architecture.md, pipe trap 1).
                throw new ServeRefusal(ErrorCodes.IoError, $"btrfs receive exited before the whole stream was written to it: {said}; nothing was kept");
        }

        result.ThrowIfFailed();
        if (!reader.IsComplete)
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"btrfs receive exited before the whole stream was written to it: {said}; nothing was kept");
        }

        return (reader.PayloadBytes, reader.Sha256Hex);
    }
}

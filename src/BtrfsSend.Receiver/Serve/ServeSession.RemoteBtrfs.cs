using System.Security.Cryptography;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using BtrfsSend.Core.Streams;
using BtrfsSend.Receiver.Luks;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// The remote-btrfs verbs (docs/architecture.md): <c>open-luks</c>, <c>receive</c>, <c>list-received</c>,
/// <c>prune-received</c>, <c>close-luks</c>. Every verb holds the volume's lock, so a receive
/// never overlaps a close. A receive lands in <c>RECEIVED_ROOT/&lt;set&gt;/&lt;snapshot&gt;</c> and is
/// kept only when it is exactly that name, read-only, with a received UUID; anything else it
/// created is deleted.
/// </summary>
internal sealed partial class ServeSession
{
    /// <summary>Where LUKS leases and the volume lock live; tests point it elsewhere.</summary>
    internal string LuksLeaseDirPath { get; init; } = LuksLease.DefaultDirPath;

    private LuksSession OpenSession()
    {
        if (!LuksSession.IsConfigured(options))
        {
            throw new ServeRefusal(ErrorCodes.Disabled, $"this receiver does not serve remote-btrfs (LUKS_DEVICE, LUKS_NAME, LUKS_MOUNT and RECEIVED_ROOT are not all set); enabled: {HelloLine.EncryptedStreamMode}");
        }

        return new LuksSession(options, new ToolRunner(), log, LuksLeaseDirPath);
    }

    private static DirectoryLock LockVolume(LuksSession session)
    {
        session.Lease.EnsureDirectory();
        return DirectoryLock.TryAcquire(session.Lease.LockFilePath)
            ?? throw new ServeRefusal(ErrorCodes.Busy, $"another request holds the LUKS volume {session.Name}; try again when it has finished");
    }

    private static void RequireMounted(LuksSession session)
    {
        if (!session.IsMounted)
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"the LUKS volume is not open (LUKS_MOUNT {session.MountDirPath} is not mounted); send open-luks first");
        }

        if (!Directory.Exists(session.ReceivedRootDirPath))
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"RECEIVED_ROOT {session.ReceivedRootDirPath} does not exist on the opened volume; the admin must create it (install -d -m 0750)");
        }
    }

    /// <summary>
    /// open-luks and close-luks name no set: a client may use them only when it is allowed at least
    /// one set (CLIENT_&lt;name&gt;), so a key meant for another purpose cannot touch the volume.
    /// </summary>
    private void RequireAllowedSomeSet()
    {
        if (!options.IsAnySetAllowed(client))
        {
            throw new ServeRefusal(ErrorCodes.Forbidden, $"client '{ClientLabel}' is allowed no backup set on this receiver, so it may not open or close the LUKS volume; ask the backup server's admin to add CLIENT_{ClientLabel}");
        }
    }

    private async Task<int> OpenLuksAsync(CancellationToken cancellationToken)
    {
        var session = OpenSession();
        RequireAllowedSomeSet();
        var key = new byte[OpenLuksRequest.MaxKeyBytes + 1];
        try
        {
            var length = 0;
            int n;
            while (length < key.Length && (n = await _input.ReadAsync(key.AsMemory(length), cancellationToken)) > 0)
            {
                length += n;
            }

            if (length > OpenLuksRequest.MaxKeyBytes)
            {
                throw new ServeRefusal(ErrorCodes.TooLarge, $"the LUKS key on stdin is longer than {OpenLuksRequest.MaxKeyBytes} bytes; nothing was opened");
            }

            if (length == 0)
            {
                throw new ServeRefusal(ErrorCodes.BadCommand, "open-luks needs the LUKS key on stdin (1 to 8192 bytes); got nothing");
            }

            using var volumeLock = LockVolume(session);
            try
            {
                var opened = await session.OpenAsync(key.AsMemory(0, length), clock.GetUtcNow(), ClientLabel, cancellationToken);
                log.Information("client {Client}: LUKS volume {Name} {What}", ClientLabel, session.Name, opened ? "opened" : "was already open");
            }
            catch (ToolFailedException ex)
            {
                throw new ServeRefusal(ErrorCodes.IoError, $"opening the LUKS volume failed: {ex.Message}");
            }

            return 0;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>
    /// Only the client recorded in the lease as the opener may close the volume; anything else open
    /// (another client's session, a lease without an opener, a volume mounted by hand) is left to
    /// its opener, to <c>close-stale</c> after LUKS_LEASE, or to a local admin. Nothing open is success.
    /// </summary>
    private async Task<int> CloseLuksAsync()
    {
        var session = OpenSession();
        RequireAllowedSomeSet();
        using var volumeLock = LockVolume(session);
        if (session.Lease.Exists || session.IsMounted)
        {
            var opener = session.Lease.TryReadOpener();
            if (opener != ClientLabel)
            {
                log.Warning("client {Client} may not close LUKS volume {Name}: opened by {Opener}", ClientLabel, session.Name, opener ?? "(not recorded)");
                throw new ServeRefusal(ErrorCodes.Forbidden, $"the LUKS volume was not opened by client '{ClientLabel}'; only its opener may close it (close-stale closes it after LUKS_LEASE)");
            }
        }

        try
        {
            // Not the request's token: a close must finish even when the client is going away.
            await session.CloseAsync(CancellationToken.None);
        }
        catch (ToolFailedException ex)
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"closing the LUKS volume failed: {ex.Message}; close-stale will retry");
        }

        return 0;
    }

    private async Task<int> ListReceivedAsync(ListReceivedRequest request, CancellationToken cancellationToken)
    {
        var session = OpenSession();
        RequireAllowed(request.Set);
        using var volumeLock = LockVolume(session);
        RequireMounted(session);
        SetDirectory.RequireNoSymlink(session.ReceivedRootDirPath, request.Set);
        foreach (var (name, subvolume) in await ReceivedStoreOf(session).ListCompleteAsync(request.Set, cancellationToken))
        {
            var at = subvolume.ReceivedAt ?? DateTimeOffset.UnixEpoch;
            await WriteLineAsync(new ListEntryLine(name, false, null, 0, at.UtcDateTime).Render());
        }

        return 0;
    }

    private async Task<int> PruneReceivedAsync(PruneReceivedRequest request, CancellationToken cancellationToken)
    {
        var session = OpenSession();
        RequireAllowed(request.Set);
        using var volumeLock = LockVolume(session);
        RequireMounted(session);
        SetDirectory.RequireNoSymlink(session.ReceivedRootDirPath, request.Set);
        await ReceivedStoreOf(session).PruneAsync(request.Set, options.Keep, clock.GetUtcNow(), cancellationToken);
        return 0;
    }

    private async Task<int> ReceiveAsync(ReceiveRequest request, CancellationToken cancellationToken)
    {
        var session = OpenSession();
        RequireAllowed(request.Set);
        var now = clock.GetUtcNow();
        var skew = request.Snapshot.TimestampUtc - now.UtcDateTime;
        if (skew.Duration() > options.MaxClockSkew)
        {
            throw new ServeRefusal(ErrorCodes.ClockSkew,
                $"snapshot time {request.Snapshot.TimestampUtc:yyyy-MM-ddTHH:mm:ssZ} is {RetentionPolicy.FormatDuration(skew.Duration())} away from the receiver's clock; allowed: within MAX_CLOCK_SKEW={RetentionPolicy.FormatDuration(options.MaxClockSkew)}");
        }

        using var volumeLock = LockVolume(session);
        RequireMounted(session);
        var store = ReceivedStoreOf(session);
        var dir = SetDirectory.Create(session.ReceivedRootDirPath, request.Set);
        await using var attempt = await store.BeginReceiveAsync(request.Set, request.Snapshot, cancellationToken);
        if (Directory.Exists(attempt.TargetPath))
        {
            throw new ServeRefusal(ErrorCodes.Exists, $"snapshot '{request.Snapshot}' is already received in set '{request.Set}'; received snapshots are never overwritten");
        }

        if (request.Parent is { } parent && !await store.IsCompleteAsync(request.Set, parent, cancellationToken))
        {
            throw new ServeRefusal(ErrorCodes.MissingParent, $"parent '{parent}' of '{request.Snapshot}' is not received in set '{request.Set}' (or not complete); send a full stream instead");
        }

        var free = FreeSpace.AvailableBytes(dir);
        if (free < options.MinFreeSpace)
        {
            throw new ServeRefusal(ErrorCodes.NoSpace, $"only {free} bytes free under {dir}, below MIN_FREE_SPACE={options.MinFreeSpace}; nothing was received");
        }

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

        log.Information("set {Set}: received {Snapshot}{Parent} ({Bytes} bytes) for client {Client}",
            request.Set, request.Snapshot, request.Parent is null ? "" : $" (parent {request.Parent})", bytes, ClientLabel);
        await WriteLineAsync(new OkLine(sha256, bytes).Render());
        return 0;
    }

    /// <summary>
    /// BSF1 reader → send-stream validator → <c>btrfs receive -e</c>. The last buffer (holding END,
    /// on which btrfs receive finalizes the subvolume) is held back until the trailer's count and
    /// SHA-256 verified and the validator saw a clean END; on any failure btrfs receive is killed
    /// before it sees END, so a truncated stream never completes a receive.
    /// </summary>
    private async Task<(long Bytes, string Sha256)> PipeIntoBtrfsReceiveAsync(string setDirPath, int declaredSendProto, CancellationToken cancellationToken)
    {
        await using var reader = new Bsf1Reader(_input, options.MaxStreamSize, leaveOpen: true);
        // The stream header must carry the protocol the producer declared (proto=, default 1).
        await using var validated = SendStreamValidatingStream.ForReading(reader, leaveOpen: true, expectedVersion: declaredSendProto);
        // --chroot: a hostile stream's path names cannot reach outside the set's directory.
        string[] argv = [BtrfsArgv.Btrfs, "receive", "-q", "-e", "--chroot", setDirPath];
        var result = await StreamPipeline.RunAsync(
            [
                // EOF from the validator: END seen, and the BSF1 trailer verified; nothing more to check.
                new CodeStage("held-back copy", stage => HoldBackCopy.CopyAsync(validated, stage.Output, _ => Task.CompletedTask, BufferSize, stage.CancellationToken)),
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

    private ReceivedStore ReceivedStoreOf(LuksSession session) => new(session.ReceivedRootDirPath, new ToolRunner(), log);
}

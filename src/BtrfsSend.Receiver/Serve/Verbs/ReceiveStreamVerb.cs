using System.Diagnostics;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>receive-stream</c>: every refusal happens before a byte is written; the stream lands in the
/// store's upload transaction (<see cref="UploadTransaction"/>), and only a valid BSF1 trailer
/// (count and SHA-256) commits it with its manifest. Any failure (EOF, bad trailer, oversize, disk
/// full, signal) leaves nothing; after a SIGKILL the next verb on the set removes the temp file.
/// </summary>
internal sealed class ReceiveStreamVerb(ServeContext context)
{
    public async Task<int> ServeAsync(ReceiveStreamRequest request, CancellationToken cancellationToken)
    {
        context.RequireAllowed(request.Set);
        var now = context.Clock.GetUtcNow();
        RequireClockWithinSkew(request, now);
        RequireStoreReady(request);
        var store = context.Store;
        SetDirectory.Create(store.RootDirPath, request.Set);
        using var setLock = store.TryLock(request.Set)
            ?? throw new ServeRefusal(ErrorCodes.Busy, $"another upload to set '{request.Set}' is running; try again when it has finished");
        foreach (var stale in store.DeleteStaleTemps(setLock, request.Set))
        {
            context.Log.Warning("set {Set}: removed stale temp file {Path} left by an interrupted upload", request.Set, stale);
        }

        RequireAdmissible(request, store.Read(request.Set), now);
        return await StoreAsync(setLock, request, cancellationToken);
    }

    private void RequireClockWithinSkew(ReceiveStreamRequest request, DateTimeOffset now)
    {
        var options = context.Options;
        var skew = request.Snapshot.TimestampUtc - now.UtcDateTime;
        if (skew.Duration() > options.MaxClockSkew)
        {
            throw new ServeRefusal(ErrorCodes.ClockSkew,
                $"snapshot time {request.Snapshot.TimestampUtc:yyyy-MM-ddTHH:mm:ssZ} is {Pruning.RetentionClock.Hours(skew.Duration())} {(skew > TimeSpan.Zero ? "ahead of" : "behind")} the receiver's clock ({now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}); allowed: within MAX_CLOCK_SKEW={RetentionPolicy.FormatDuration(options.MaxClockSkew)}; check both clocks (NTP)");
        }
    }

    /// <summary>Refusals that need no lock: the store is there, reachable without symlinks, and has room.</summary>
    private void RequireStoreReady(ReceiveStreamRequest request)
    {
        var root = context.Store.RootDirPath;
        // A missing BACKUP_ROOT usually means the backup disk is not mounted: never create it,
        // or backups would silently fill the system disk underneath the mount point.
        if (!Directory.Exists(root))
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"BACKUP_ROOT {root} does not exist (is the backup disk mounted?); nothing was stored; the backup server's admin must mount it");
        }

        SetDirectory.RequireNoSymlink(root, request.Set);
        if (!Directory.Exists(context.Store.SetDirPath(request.Set)) && request.IsIncremental)
        {
            throw new ServeRefusal(ErrorCodes.MissingParent, $"parent '{request.Parent}' of incremental '{request.Snapshot}' is not stored: set '{request.Set}' has no streams yet; send a full stream instead");
        }

        var rootFree = FreeSpace.AvailableBytes(root);
        if (rootFree < context.Options.MinFreeSpace)
        {
            throw new ServeRefusal(ErrorCodes.NoSpace, $"only {rootFree} bytes free under {root}, below MIN_FREE_SPACE={context.Options.MinFreeSpace}; nothing was stored");
        }
    }

    /// <summary>Refusals under the set's lock: a name in use, the upload rate, the parent, the set's free space.</summary>
    private void RequireAdmissible(ReceiveStreamRequest request, SetContents contents, DateTimeOffset now)
    {
        var options = context.Options;
        if (contents.HasName(request.Snapshot))
        {
            throw new ServeRefusal(ErrorCodes.Exists, $"snapshot '{request.Snapshot}' is already stored in set '{request.Set}'; stored backups are never overwritten");
        }

        // A compromised client could otherwise push genuine backups out of their retention slots
        // with a flood of junk uploads (README, security model): refuse before any byte is stored.
        if (options.MaxUploadsPerDay > 0)
        {
            var stored = UploadRate.CountStoredSince(contents, now.UtcDateTime - UploadRate.Window);
            if (stored >= options.MaxUploadsPerDay)
            {
                UploadRate.RecordRefusal(context.Store.SetDirPath(request.Set), request.Snapshot, now);
                context.Log.Warning("set {Set}: upload of {Snapshot} refused: {Count} uploads in the last 24 h, MAX_UPLOADS_PER_DAY={Max}", request.Set, request.Snapshot, stored, options.MaxUploadsPerDay);
                throw new ServeRefusal(ErrorCodes.RateLimited,
                    $"set '{request.Set}' already has {stored} uploads in the last 24 hours, the receiver's MAX_UPLOADS_PER_DAY={options.MaxUploadsPerDay}; nothing was stored; try again later");
            }
        }

        if (request.IsIncremental && contents.Find(request.Parent!) is null)
        {
            throw new ServeRefusal(ErrorCodes.MissingParent, $"parent '{request.Parent}' of incremental '{request.Snapshot}' is not stored in set '{request.Set}'; send a full stream instead");
        }

        var dir = context.Store.SetDirPath(request.Set);
        var free = FreeSpace.AvailableBytes(dir);
        if (free < options.MinFreeSpace)
        {
            throw new ServeRefusal(ErrorCodes.NoSpace, $"only {free} bytes free under {dir}, below MIN_FREE_SPACE={options.MinFreeSpace}; nothing was stored");
        }
    }

    /// <summary>Receives into the upload transaction, commits stream and manifest, answers OK.</summary>
    private async Task<int> StoreAsync(DirectoryLock setLock, ReceiveStreamRequest request, CancellationToken cancellationToken)
    {
        var kind = request.IsIncremental ? StreamKind.Incremental : StreamKind.Full;
        var started = Stopwatch.GetTimestamp();
        await using var upload = context.Store.BeginUpload(setLock, request.Set, request.Snapshot, kind, CouldNotDelete);
        var (bytes, sha256, encryption) = await ReceiveToTempAsync(upload.Temp, cancellationToken);
        await upload.CommitAsync(new Manifest
        {
            Set = request.Set,
            Snapshot = request.Snapshot,
            Kind = kind,
            Parent = request.Parent,
            StreamBytes = bytes,
            StreamSha256 = sha256,
            Encryption = encryption,
            Compression = request.Declared.Compression,
            SendProto = request.Declared.SendProto,
            ReceivedAtUtc = TruncateToSeconds(context.Clock.GetUtcNow().UtcDateTime),
            Client = context.Client ?? ServeSession.UnpinnedClient,
            SnapshotUuid = request.Declared.SnapshotUuid,
            ParentUuid = request.Declared.ParentUuid,
            ProducerVersion = request.Declared.ProducerVersion,
            CanaryToken = request.Declared.CanaryToken,
        });

        // Committed: from here on it is a backup, whatever happens to the client.
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        context.Log.Information("set {Set}: stored {Snapshot} ({Kind}, {Bytes} bytes, {Rate:F1} MiB/s, {Encryption}) for client {Client}",
            request.Set, request.Snapshot, kind, bytes, bytes / 1048576.0 / Math.Max(seconds, 1e-6), encryption, context.ClientLabel);
        await context.WriteLineAsync(new OkLine(sha256, bytes).Render());
        return 0;
    }

    /// <summary>
    /// The hot path, one pass per byte: BSF1 reader (framing + SHA-256) → one reused 1 MiB buffer,
    /// filled by as many reads as it takes (sshd hands over 32–64 KiB at a time) → one synchronous
    /// write(2) per full buffer into the temp file (FileStream without its own buffer; an async write
    /// to a regular file is a thread-pool hop per call). Reads stay async so that SIGTERM's token
    /// reaches a stalled read. Returns only after a verified trailer and an fsync.
    /// </summary>
    private async Task<(long Bytes, string Sha256, StreamEncryption Encryption)> ReceiveToTempAsync(FileStream temp, CancellationToken cancellationToken)
    {
        await using var reader = new Bsf1Reader(context.Input, context.Options.MaxStreamSize, leaveOpen: true);
        var buffer = new byte[ServeSession.BufferSize];
        byte? first = null;
        while (true)
        {
            var filled = 0;
            int n;
            while (filled < buffer.Length && (n = await reader.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += n;
            }

            if (filled == 0)
            {
                break;
            }

            if (first is null)
            {
                // Checked on the first bytes, before any is written: a plaintext (or junk) upload
                // never lands on the backup disk, let alone as a backup.
                first = buffer[0];
                RequireOpenPgp(SniffEncryption(buffer[0]));
            }

            temp.Write(buffer, 0, filled);
        }

        // Read returned 0: the trailer's count and SHA-256 matched what arrived.
        if (first is null)
        {
            throw new ServeRefusal(ErrorCodes.NotEncrypted, "the payload is empty; an encrypted stream begins with an OpenPGP session-key packet; nothing was stored");
        }

        temp.Flush(flushToDisk: true);
        return (reader.PayloadBytes, reader.Sha256Hex, SniffEncryption(first.Value));
    }

    private static void RequireOpenPgp(StreamEncryption sniffed)
    {
        if (sniffed == StreamEncryption.None)
        {
            throw new ServeRefusal(ErrorCodes.NotEncrypted,
                "the payload does not begin with an OpenPGP session-key packet (public-key tag 1 or symmetric tag 3); only encrypted streams are stored; nothing was stored");
        }
    }

    /// <summary>
    /// What the first OpenPGP packet says (RFC 4880 §4.2, old and new packet format): a
    /// symmetric-key session key packet (tag 3) or a public-key one (tag 1). Anything else is not
    /// an encrypted stream and is refused; the receiver never needs to read further.
    /// </summary>
    internal static StreamEncryption SniffEncryption(byte firstByte)
    {
        if ((firstByte & 0x80) == 0)
        {
            return StreamEncryption.None;
        }

        var tag = (firstByte & 0x40) != 0 ? firstByte & 0x3F : (firstByte >> 2) & 0x0F;
        return tag switch
        {
            3 => StreamEncryption.OpenPgpSymmetric,
            1 => StreamEncryption.OpenPgpPubkey,
            _ => StreamEncryption.None,
        };
    }

    private static DateTime TruncateToSeconds(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    private void CouldNotDelete(string path, Exception ex)
    {
        if (ex is IOException)
        {
            context.Log.Error("could not delete {Path}: {Message}; the next request for this set removes it", path, ex.Message);
        }
        else
        {
            context.Log.Error("could not delete {Path}: {Message}", path, ex.Message);
        }
    }
}

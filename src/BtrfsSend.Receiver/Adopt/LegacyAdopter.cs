using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Serve;
using Serilog;

namespace BtrfsSend.Receiver.Adopt;

/// <summary>
/// <c>adopt</c>: takes over the streams the shell scripts (<c>backup-receive-btrfs-stream.sh</c>)
/// stored in a set, so that listing, retention, monitoring and restore see them (docs/migration.md).
/// For every stream file without a manifest of ours: snapshot and kind from the file name, the
/// parent from the scripts' manifest (else the previous snapshot of the set in time order, marked
/// <c>parent_inferred=yes</c>), size and SHA-256 measured, <c>received_at</c> from the file's
/// modification time, <c>origin=legacy</c>. The scripts' manifest (which has our manifest's name)
/// is renamed to <c>&lt;snapshot&gt;.scripts-manifest</c>, made read-only and never changed
/// otherwise; ours is written like a receive's (temp, fsync, 0400 root, no-replace rename, directory
/// fsync). Nothing is deleted. Runs under the set's lock; a second run finds nothing to do.
/// </summary>
internal sealed class LegacyAdopter(StreamStore store, ILogger log)
{
    private const int HashBufferSize = 1024 * 1024;

    public AdoptOutcome Adopt(BackupSet set, bool dryRun, TextWriter output)
    {
        var dir = store.SetDirPath(set);
        if (!Directory.Exists(dir))
        {
            throw new ConfigException($"set '{set}' does not exist under BACKUP_ROOT {store.RootDirPath}; nothing to adopt");
        }

        using var setLock = DirectoryLock.Acquire(store.LockFilePath(set), $"set '{set}'");
        var streams = new List<StoredFileName>();
        var refused = 0;
        foreach (var path in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (!name.EndsWith(".btrfs.gpg", StringComparison.Ordinal))
            {
                continue;
            }

            if (StoredFileName.TryParse(name) is { IsManifest: false } stored)
            {
                streams.Add(stored);
            }
            else
            {
                output.WriteLine($"skip    {NameText.Printable(name)}: not named <prefix>-<yyyyMMddTHHmmssZ>.full.btrfs.gpg or .incr.btrfs.gpg; left as it is");
                refused++;
            }
        }

        var twice = streams.GroupBy(s => s.Snapshot.Value, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var timeline = streams.Where(s => !twice.Contains(s.Snapshot.Value))
            .OrderBy(s => s.Snapshot.TimestampUtc).ThenBy(s => s.Snapshot.Value, StringComparer.Ordinal).ToList();
        foreach (var name in twice.Order(StringComparer.Ordinal))
        {
            output.WriteLine($"refuse  {name}: stored both as .full.btrfs.gpg and .incr.btrfs.gpg; which one is the backup is unclear, so neither is adopted");
            refused++;
        }

        var adopted = 0;
        var ours = 0;
        for (var i = 0; i < timeline.Count; i++)
        {
            var result = AdoptOne(setLock, dir, set, timeline[i], i == 0 ? null : timeline[i - 1].Snapshot, timeline, dryRun, output);
            switch (result)
            {
                case Result.Adopted: adopted++; break;
                case Result.AlreadyOurs: ours++; break;
                default: refused++; break;
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"adopt {set}: {(dryRun ? "would adopt" : "adopted")} {adopted}, {ours} already had a manifest of ours, {refused} refused{(dryRun ? " (dry run: nothing changed)" : "")}"));
        if (!dryRun && adopted > 0)
        {
            log.Information("set {Set}: adopted {Adopted} stream(s) stored by the shell scripts ({Refused} refused)", set, adopted, refused);
        }

        return new AdoptOutcome(adopted, ours, refused);
    }

    private enum Result
    {
        Adopted,
        AlreadyOurs,
        Refused,
    }

    private Result AdoptOne(DirectoryLock setLock, string dir, BackupSet set, StoredFileName stream, SnapshotName? previous, List<StoredFileName> timeline, bool dryRun, TextWriter output)
    {
        var snapshot = stream.Snapshot;
        var kind = stream.Kind!.Value;
        var streamPath = Path.Combine(dir, stream.Value);
        var manifestPath = Path.Combine(dir, StoredFileName.ManifestFileName(snapshot));
        var legacyName = StoredFileName.LegacyManifestFileName(snapshot);
        if (ReadScriptsManifest(dir, snapshot, output, out var legacySource, out var legacy) is { } decided)
        {
            return decided;
        }

        var notes = new List<string>(legacy?.Notes ?? []);
        if (legacy is null)
        {
            notes.Add("no manifest of the scripts beside it: the file name decides");
        }

        if (legacy?.Snapshot is { } said && said != snapshot)
        {
            return Refuse(output, snapshot, $"the scripts' manifest says snapshot {said} ({legacy.SnapshotKey}=), but the stream file is named {stream.Value}");
        }

        if (legacy?.Kind is { } saidKind && saidKind != kind)
        {
            return Refuse(output, snapshot, $"the scripts' manifest says kind {ManifestKeys.Text(saidKind)} ({legacy.KindKey}=), but the stream file is named {stream.Value}");
        }

        if (ChooseParent(stream, legacy, previous, timeline, notes, out var parent, out var inferred, out var parentWhy) is { } noParent)
        {
            return Refuse(output, snapshot, noParent);
        }

        var info = new FileInfo(streamPath);
        if (info.LinkTarget is not null)
        {
            return Refuse(output, snapshot, $"{stream.Value} is a symbolic link; only regular files are adopted");
        }

        if (info.Length == 0)
        {
            return Refuse(output, snapshot, $"{stream.Value} is empty (0 bytes): an interrupted upload of the scripts, not a backup");
        }

        var mtime = info.LastWriteTimeUtc;
        var receivedAt = new DateTime(mtime.Ticks - (mtime.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        var what = kind == StreamKind.Full ? "full" : $"incremental on {parent} ({parentWhy})";
        var keep = legacySource is null ? "no manifest of the scripts to keep" : $"the scripts' manifest kept as {legacyName} (read-only)";
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{what}; received_at {receivedAt:yyyy-MM-dd'T'HH:mm:ss'Z'} (the file's modification time); {info.Length} bytes; {keep}");
        if (dryRun)
        {
            output.WriteLine($"adopt   {snapshot}: {summary} (dry run: SHA-256 not computed, nothing written)");
            WriteNotes(output, notes);
            return Result.Adopted;
        }

        var (bytesHashed, sha256, firstByte) = Hash(streamPath);
        if (bytesHashed != info.Length)
        {
            return Refuse(output, snapshot, $"{stream.Value} changed size while it was read ({info.Length} then {bytesHashed} bytes); is something still writing it?");
        }

        var manifest = ManifestFor(set, stream, parent, inferred, (bytesHashed, sha256, firstByte), receivedAt, legacySource is null ? null : legacyName);
        if (legacySource == manifestPath)
        {
            store.SetAside(setLock, set, Path.GetFileName(manifestPath), legacyName);
        }

        store.CommitManifest(setLock, manifest);
        output.WriteLine($"adopt   {snapshot}: {summary}; sha256 {sha256}");
        WriteNotes(output, notes);
        log.Information("set {Set}: adopted {Snapshot} stored by the shell scripts ({Kind}{Parent}, {Bytes} bytes)",
            set, snapshot, ManifestKeys.Text(kind), parent is null ? "" : $" on {parent}{(inferred ? ", parent inferred" : "")}", bytesHashed);
        return Result.Adopted;
    }

    /// <summary>
    /// Finds the scripts' manifest beside the stream (under our manifest's name, or already set
    /// aside by an interrupted adopt); decides the stream (refused, or already ours) when it cannot
    /// be adopted, else returns null.
    /// </summary>
    private static Result? ReadScriptsManifest(string dir, SnapshotName snapshot, TextWriter output, out string? legacySource, out LegacyManifest? legacy)
    {
        var manifestPath = Path.Combine(dir, StoredFileName.ManifestFileName(snapshot));
        var legacyName = StoredFileName.LegacyManifestFileName(snapshot);
        var legacyPath = Path.Combine(dir, legacyName);
        legacySource = null;
        legacy = null;
        if (Exists(manifestPath))
        {
            var bytes = ReadSmall(manifestPath, out var error);
            if (error is not null)
            {
                return Refuse(output, snapshot, $"its manifest {Path.GetFileName(manifestPath)} cannot be read: {error}");
            }

            if (bytes.AsSpan().StartsWith("format=btrfs-send-manifest/"u8))
            {
                var parsed = ManifestReader.Parse(bytes, Path.GetFileName(manifestPath));
                if (!parsed.IsValid)
                {
                    return Refuse(output, snapshot, $"it has a manifest of ours that does not read ({string.Join("; ", parsed.Errors)}); 'check' reports it");
                }

                output.WriteLine($"skip    {snapshot}: already has a manifest of ours{(parsed.Manifest!.Origin == ManifestKeys.LegacyOrigin ? " (adopted earlier)" : "")}");
                return Result.AlreadyOurs;
            }

            if (Exists(legacyPath))
            {
                return Refuse(output, snapshot, $"both {Path.GetFileName(manifestPath)} (not ours) and {legacyName} exist, so which one the scripts wrote is unclear; move one of them away");
            }

            legacySource = manifestPath;
            legacy = LegacyManifestReader.Parse(bytes);
        }
        else if (Exists(legacyPath))
        {
            // An adopt interrupted after renaming the scripts' manifest: read it where it is now.
            var bytes = ReadSmall(legacyPath, out var error);
            if (error is not null)
            {
                return Refuse(output, snapshot, $"{legacyName} cannot be read: {error}");
            }

            legacySource = legacyPath;
            legacy = LegacyManifestReader.Parse(bytes);
        }

        return null;
    }

    private static Result Refuse(TextWriter output, SnapshotName snapshot, string why)
    {
        output.WriteLine($"refuse  {snapshot}: {why}; nothing changed for it");
        return Result.Refused;
    }

    /// <summary>
    /// The parent of an incremental: the one the scripts' manifest names, else the previous snapshot
    /// of the set in time order (inferred). Returns why the stream is refused, or null.
    /// </summary>
    private static string? ChooseParent(StoredFileName stream, LegacyManifest? legacy, SnapshotName? previous, List<StoredFileName> timeline, List<string> notes,
        out SnapshotName? parent, out bool inferred, out string parentWhy)
    {
        var snapshot = stream.Snapshot;
        parent = null;
        inferred = false;
        parentWhy = "";
        if (stream.Kind == StreamKind.Full)
        {
            if (legacy?.Parent is { } p)
            {
                return $"stored as a full stream ({stream.Value}), but the scripts' manifest names a parent {p} ({legacy.ParentKey}=)";
            }
        }
        else if (legacy?.Parent is { } named)
        {
            if (named.TimestampUtc >= snapshot.TimestampUtc)
            {
                return $"the scripts' manifest names parent {named} ({legacy.ParentKey}=), which is not older than the snapshot";
            }

            parent = named;
            parentWhy = $"named by the scripts' manifest ({legacy.ParentKey}=)";
            if (!timeline.Any(s => s.Snapshot == named))
            {
                notes.Add($"its parent {named} is not stored in the set: it cannot be restored (check reports the broken chain)");
            }
        }
        else
        {
            if (previous is null)
            {
                return "an incremental stream with no parent named and no older stream in the set to be its parent";
            }

            parent = previous;
            inferred = true;
            parentWhy = $"{(legacy is null ? "no manifest of the scripts" : "the scripts' manifest names no parent")}: inferred as the previous snapshot of the set in time order (what prod-btrfs-backup.sh sent against), parent_inferred=yes until btrfs-send-backup verify proves it";
        }

        return null;
    }

    /// <summary>Our manifest for an adopted stream: <c>origin=legacy</c>, measured size and hash, received_at from the file.</summary>
    private static Manifest ManifestFor(BackupSet set, StoredFileName stream, SnapshotName? parent, bool inferred, (long Bytes, string Sha256, byte FirstByte) hashed, DateTime receivedAt, string? keptAs)
    {
        return new Manifest
        {
            Set = set,
            Snapshot = stream.Snapshot,
            Kind = stream.Kind!.Value,
            Parent = parent,
            StreamBytes = hashed.Bytes,
            StreamSha256 = hashed.Sha256,
            Encryption = Serve.Verbs.ReceiveStreamVerb.SniffEncryption(hashed.FirstByte),
            Compression = StreamCompression.None,
            SendProto = 1,
            ReceivedAtUtc = receivedAt,
            Client = ServeSession.UnpinnedClient,
            Origin = ManifestKeys.LegacyOrigin,
            ParentInferred = inferred,
            LegacyManifest = keptAs,
        };
    }

    private static void WriteNotes(TextWriter output, List<string> notes)
    {
        foreach (var note in notes)
        {
            output.WriteLine($"        note: {note}");
        }
    }

    private static bool Exists(string path) => File.Exists(path) || new FileInfo(path).LinkTarget is not null;

    /// <summary>Reads at most the legacy limit + 1 bytes without following into a FIFO's wait; refuses symlinks.</summary>
    private static byte[] ReadSmall(string path, out string? error)
    {
        if (new FileInfo(path).LinkTarget is not null)
        {
            error = "it is a symbolic link; only regular files are read";
            return [];
        }

        var buffer = new byte[LegacyManifestReader.MaxBytes + 1];
        var length = StreamStore.ReadAtMost(path, buffer, out error);
        return buffer[..length];
    }

    private static (long Bytes, string Sha256, byte FirstByte) Hash(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[HashBufferSize];
        long total = 0;
        byte first = 0;
        int n;
        while ((n = file.Read(buffer)) > 0)
        {
            if (total == 0)
            {
                first = buffer[0];
            }

            sha.AppendData(buffer, 0, n);
            total += n;
        }

        return (total, Convert.ToHexStringLower(sha.GetHashAndReset()), first);
    }
}

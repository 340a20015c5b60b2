using System.IO.Enumeration;
using System.Runtime.InteropServices;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Storage;

// Contract of Core/Storage: every write and delete in the encrypted-stream store goes through this
// room and takes the set's lock as an argument; an upload appears only complete, fsynced and 0400
// (UploadTransaction), nothing stored is ever replaced, and a delete removes the manifest last.

/// <summary>
/// The on-disk layout of encrypted streams (docs/protocol.md): <c>ROOT/&lt;set&gt;/&lt;snapshot&gt;.full.btrfs.gpg</c>
/// or <c>.incr.btrfs.gpg</c> and <c>&lt;snapshot&gt;.manifest</c>. Read by the receiver and by a
/// restore from a copied directory. Paths are built only from validated names.
/// </summary>
public sealed class StreamStore(string rootDirPath)
{
    /// <summary>Manifest reads in flight at once: enough to overlap syscalls, few enough for a busy server.</summary>
    private const int MaxReadParallelism = 4;

    /// <summary>The per-set lock file (flock) held by every writer of the set.</summary>
    public const string LockFileName = ".lock";

    public string RootDirPath { get; } = Path.GetFullPath(rootDirPath);

    public string SetDirPath(BackupSet set) => Path.Combine([RootDirPath, .. set.Segments]);

    public string LockFilePath(BackupSet set) => Path.Combine(SetDirPath(set), LockFileName);

    /// <summary>The set's lock, or null while another process (an upload, a prune) holds it.</summary>
    public DirectoryLock? TryLock(BackupSet set) => DirectoryLock.TryAcquire(LockFilePath(set));

    /// <summary>
    /// Begins an upload of <paramref name="snapshot"/> into the set's existing directory; the caller
    /// holds <paramref name="setLock"/> until the transaction is disposed. <paramref name="couldNotDelete"/>
    /// hears of a temp file or withdrawn stream that could not be deleted (the next upload's
    /// <see cref="DeleteStaleTemps"/> removes a temp file).
    /// </summary>
    public UploadTransaction BeginUpload(DirectoryLock setLock, BackupSet set, SnapshotName snapshot, StreamKind kind, Action<string, Exception>? couldNotDelete = null)
    {
        RequireHeld(setLock, set);
        ArgumentNullException.ThrowIfNull(snapshot);
        return new UploadTransaction(SetDirPath(set), set, snapshot, kind, couldNotDelete);
    }

    /// <summary>
    /// Deletes what interrupted uploads left in the set (temp files only; no stored name is ever
    /// touched) and returns their paths. Holding the lock proves that no upload is running.
    /// </summary>
    public IReadOnlyList<string> DeleteStaleTemps(DirectoryLock setLock, BackupSet set)
    {
        RequireHeld(setLock, set);
        return DurableFiles.DeleteStaleTemps(SetDirPath(set));
    }

    /// <summary>
    /// Deletes stored streams in the safe order: per stream its stream file, then the scripts'
    /// manifest adopt kept beside it, then its manifest last, so an interrupted delete leaves at
    /// worst a manifest whose stream is gone (which <c>check</c> reports), never a stream without
    /// its manifest that would look like an orphan upload; one directory fsync at the end.
    /// <paramref name="deleted"/> hears of each stream once its files are gone.
    /// </summary>
    public void Delete(DirectoryLock setLock, BackupSet set, IEnumerable<StoredStream> streams, Action<StoredStream>? deleted = null)
    {
        RequireHeld(setLock, set);
        ArgumentNullException.ThrowIfNull(streams);
        var dir = SetDirPath(set);
        var any = false;
        foreach (var stream in streams)
        {
            if (stream.Manifest.Set != set)
            {
                throw new ArgumentException($"{stream.ManifestFilePath} belongs to set '{stream.Manifest.Set}', not '{set}'", nameof(streams));
            }

            File.Delete(stream.StreamFilePath);
            if (stream.Manifest.LegacyManifest is { } legacy)
            {
                File.Delete(Path.Combine(dir, legacy));
            }

            File.Delete(stream.ManifestFilePath);
            any = true;
            deleted?.Invoke(stream);
        }

        if (any)
        {
            DurableFiles.FsyncDirectory(dir);
        }
    }

    /// <summary>
    /// Writes a manifest for a stream already in the set (adopt), durably and never replacing one
    /// (<see cref="Errors.RefusedException"/> <c>exists</c>).
    /// </summary>
    public void CommitManifest(DirectoryLock setLock, Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        RequireHeld(setLock, manifest.Set);
        var path = Path.Combine(SetDirPath(manifest.Set), StoredFileName.ManifestFileName(manifest.Snapshot));
        DurableFiles.WriteNew(path, System.Text.Encoding.UTF8.GetBytes(ManifestWriter.Render(manifest)));
    }

    /// <summary>
    /// Keeps a file that is not ours but sits under a stored name (the scripts' manifest) under
    /// <paramref name="newName"/>: read-only, renamed without replacing, directory fsync.
    /// </summary>
    public void SetAside(DirectoryLock setLock, BackupSet set, string fileName, string newName)
    {
        RequireHeld(setLock, set);
        var dir = SetDirPath(set);
        var path = Path.Combine(dir, fileName);
        File.SetUnixFileMode(path, DurableFiles.CommittedMode);
        DurableFiles.RenameNoReplace(path, Path.Combine(dir, newName));
        DurableFiles.FsyncDirectory(dir);
    }

    /// <summary>Reads one set's directory; a set that does not exist yet is empty.</summary>
    public SetContents Read(BackupSet set) => ReadDirectory(SetDirPath(set), set);

    /// <summary>
    /// Reads a directory holding one set's files wherever it is (a copy of <c>BACKUP_ROOT/&lt;set&gt;/</c>
    /// on a USB disk, say), as strictly as <see cref="Read"/>: manifests must name <paramref name="set"/>.
    /// One directory enumeration (which also gives each stream file's size, see
    /// <see cref="StoredStream.StreamFileBytes"/>); manifests are read and parsed in parallel over a
    /// small bounded degree, each with one open and one read into a reused buffer.
    /// </summary>
    public static SetContents ReadDirectory(string dirPath, BackupSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var dir = Path.GetFullPath(dirPath);
        var streams = new List<StoredStream>();
        var problems = new List<string>();
        var orphans = new List<string>();
        var temps = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        if (!Directory.Exists(dir))
        {
            return new SetContents(set, dir, streams, problems, orphans, temps) { NamesInUse = names };
        }

        var streamFiles = new Dictionary<string, long>(StringComparer.Ordinal);
        var manifests = new List<(SnapshotName Snapshot, string Path)>();
        foreach (var (fileName, length) in EnumerateFiles(dir))
        {
            if (fileName.StartsWith(DurableFiles.TempPrefix, StringComparison.Ordinal))
            {
                temps.Add(Path.Combine(dir, fileName));
                continue;
            }

            if (length >= 0)
            {
                // A stream file's name is checked only if no manifest claims it (below): a claimed
                // one equals the stream_file its valid manifest derived from a valid snapshot name.
                streamFiles[fileName] = length;
                continue;
            }

            var stored = StoredFileName.TryParse(fileName);
            if (stored is { IsManifest: true })
            {
                names.Add(stored.Snapshot.Value);
                manifests.Add((stored.Snapshot, Path.Combine(dir, fileName)));
            }

            // Anything else (.lock, files that are not ours) is ignored.
        }

        manifests.Sort((a, b) => string.CompareOrdinal(a.Snapshot.Value, b.Snapshot.Value));
        var read = ReadManifests(manifests, set);
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < manifests.Count; i++)
        {
            var path = manifests[i].Path;
            var (manifest, problem) = read[i];
            if (manifest is null)
            {
                problems.Add(problem!);
                continue;
            }

            claimed.Add(manifest.StreamFile);
            if (!streamFiles.TryGetValue(manifest.StreamFile, out var streamBytes))
            {
                problems.Add($"{path}: its stream file {manifest.StreamFile} is missing");
                continue;
            }

            streams.Add(new StoredStream(manifest, path, Path.Combine(dir, manifest.StreamFile)) { StreamFileBytes = streamBytes });
        }

        foreach (var fileName in streamFiles.Keys.Where(name => !claimed.Contains(name)).Order(StringComparer.Ordinal))
        {
            if (StoredFileName.TryParse(fileName) is { } stored)
            {
                names.Add(stored.Snapshot.Value);
                orphans.Add(Path.Combine(dir, fileName));
            }
        }

        return new SetContents(set, dir, streams, problems, orphans, temps) { NamesInUse = names };
    }

    private void RequireHeld(DirectoryLock setLock, BackupSet set)
    {
        ArgumentNullException.ThrowIfNull(setLock);
        ArgumentNullException.ThrowIfNull(set);
        if (setLock.LockFilePath != LockFilePath(set))
        {
            throw new ArgumentException($"the lock held is {setLock.LockFilePath}, not set '{set}'s {LockFilePath(set)}", nameof(setLock));
        }
    }

    /// <summary>Every set under the root (directories up to 4 deep whose names are valid segments and that hold a stored file).</summary>
    public IReadOnlyList<BackupSet> DiscoverSets()
    {
        var result = new List<BackupSet>();
        if (Directory.Exists(RootDirPath))
        {
            Walk(RootDirPath, [], result);
        }

        return result.OrderBy(s => s.Value, StringComparer.Ordinal).ToList();
    }

    private static void Walk(string dir, List<string> segments, List<BackupSet> result)
    {
        if (segments.Count > 0
            && Directory.EnumerateFiles(dir).Any(f => StoredFileName.TryParse(Path.GetFileName(f)) is not null || Path.GetFileName(f) == LockFileName))
        {
            var set = BackupSet.Check(string.Join('/', segments));
            if (set.Value is not null)
            {
                result.Add(set.Value);
            }
        }

        if (segments.Count >= BackupSet.MaxSegments)
        {
            return;
        }

        foreach (var sub in Directory.EnumerateDirectories(dir))
        {
            var info = new DirectoryInfo(sub);
            if (info.LinkTarget is not null)
            {
                continue; // never follow symlinks out of the store
            }

            segments.Add(info.Name);
            if (BackupSet.Check(string.Join('/', segments)).IsValid)
            {
                Walk(sub, segments, result);
            }

            segments.RemoveAt(segments.Count - 1);
        }
    }

    /// <summary>
    /// The files (not directories) in <paramref name="dir"/>, hidden ones included, with the size of
    /// files named like stream files (one stat each, from the enumeration itself; -1 for every other file).
    /// </summary>
    private static List<(string Name, long Length)> EnumerateFiles(string dir)
    {
        // AttributesToSkip = 0: temp files start with a dot, which .NET calls hidden.
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
        var entries = new FileSystemEnumerable<(string Name, long Length)>(dir, static (ref FileSystemEntry entry) =>
        {
            var name = entry.FileName.ToString();
            var isStream = name.EndsWith(StoredFileName.FullSuffix, StringComparison.Ordinal)
                || name.EndsWith(StoredFileName.IncrementalSuffix, StringComparison.Ordinal);
            return (name, isStream ? entry.Length : -1);
        }, options)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => !entry.IsDirectory,
        };
        return entries.ToList();
    }

    /// <summary>Reads and checks every manifest; result i belongs to <paramref name="manifests"/>[i].</summary>
    private static (Manifest? Manifest, string? Problem)[] ReadManifests(List<(SnapshotName Snapshot, string Path)> manifests, BackupSet set)
    {
        var results = new (Manifest?, string?)[manifests.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(Environment.ProcessorCount, 1, MaxReadParallelism) };
        Parallel.For(0, manifests.Count, parallel,
            () => new byte[ManifestReader.MaxBytes + 1],
            (i, _, buffer) =>
            {
                results[i] = ReadManifest(manifests[i].Path, set, manifests[i].Snapshot, buffer);
                return buffer;
            },
            static _ => { });
        return results;
    }

    private static (Manifest? Manifest, string? Problem) ReadManifest(string path, BackupSet set, SnapshotName snapshot, byte[] buffer)
    {
        var length = ReadAtMost(path, buffer, out var error);
        if (error is not null)
        {
            return (null, $"{path}: cannot read: {error}");
        }

        if (length > ManifestReader.MaxBytes)
        {
            return (null, $"{path}: manifest is more than {ManifestReader.MaxBytes} bytes");
        }

        var parsed = ManifestReader.Parse(buffer.AsSpan(0, length), path);
        if (!parsed.IsValid)
        {
            return (null, $"{path}: {string.Join("; ", parsed.Errors)}");
        }

        var manifest = parsed.Manifest!;
        if (manifest.Set != set || manifest.Snapshot != snapshot)
        {
            return (null, $"{path}: manifest says set '{manifest.Set}' snapshot '{manifest.Snapshot}', but the file is {set}/{snapshot}.manifest");
        }

        return (manifest, null);
    }

    /// <summary>
    /// Reads up to <paramref name="buffer"/>'s length from the start of <paramref name="path"/> with
    /// plain open/read/close (no FileStream, no advisory flock: thousands of manifests are read per
    /// listing). O_NONBLOCK so that a FIFO planted under a manifest's name reads as empty instead
    /// of hanging the reader; it changes nothing for regular files.
    /// </summary>
    internal static int ReadAtMost(string path, byte[] buffer, out string? error)
    {
        error = null;
        var fd = Native.Open(path, Native.ORdOnly | Native.OCloexec | Native.ONonBlock);
        if (fd < 0)
        {
            error = Native.ErrorText(Marshal.GetLastPInvokeError());
            return 0;
        }

        try
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var n = Native.Read(fd, buffer.AsSpan(total), buffer.Length - total);
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.EIntr)
                    {
                        continue;
                    }

                    error = Native.ErrorText(errno);
                    return 0;
                }

                if (n == 0)
                {
                    break;
                }

                total += (int)n;
                if (total < buffer.Length)
                {
                    // Linux returns a short read from a regular file only at its end; a committed
                    // manifest is complete before its rename. Saves the read(2) that would return 0.
                    break;
                }
            }

            return total;
        }
        finally
        {
            Native.Close(fd);
        }
    }
}

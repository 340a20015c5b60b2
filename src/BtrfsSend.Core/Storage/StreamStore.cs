using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Storage;

/// <summary>
/// The on-disk layout of encrypted streams (DESIGN.md §4): <c>ROOT/&lt;set&gt;/&lt;snapshot&gt;.full.btrfs.gpg</c>
/// or <c>.incr.btrfs.gpg</c> and <c>&lt;snapshot&gt;.manifest</c>. Read by the receiver and by a
/// restore from a copied directory. Paths are built only from validated names.
/// </summary>
public sealed class StreamStore(string rootDirPath)
{
    /// <summary>The per-set lock file (flock) held by every writer of the set.</summary>
    public const string LockFileName = ".lock";

    public string RootDirPath { get; } = Path.GetFullPath(rootDirPath);

    public string SetDirPath(BackupSet set) => Path.Combine([RootDirPath, .. set.Segments]);

    public string LockFilePath(BackupSet set) => Path.Combine(SetDirPath(set), LockFileName);

    /// <summary>Reads one set's directory; a set that does not exist yet is empty.</summary>
    public SetContents Read(BackupSet set) => ReadDirectory(SetDirPath(set), set);

    /// <summary>
    /// Reads a directory holding one set's files wherever it is (a copy of <c>BACKUP_ROOT/&lt;set&gt;/</c>
    /// on a USB disk, say), as strictly as <see cref="Read"/>: manifests must name <paramref name="set"/>.
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

        var streamFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        var manifests = new List<(StoredFileName Name, string Path)>();
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            var fileName = Path.GetFileName(path);
            if (fileName.StartsWith(DurableFiles.TempPrefix, StringComparison.Ordinal))
            {
                temps.Add(path);
                continue;
            }

            var stored = StoredFileName.TryParse(fileName);
            if (stored is null)
            {
                continue; // .lock and anything else that is not ours
            }

            names.Add(stored.Snapshot.Value);
            if (stored.IsManifest)
            {
                manifests.Add((stored, path));
            }
            else
            {
                streamFiles[fileName] = path;
            }
        }

        var claimed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, path) in manifests.OrderBy(m => m.Name.Snapshot.Value, StringComparer.Ordinal))
        {
            var manifest = ReadManifest(path, set, name.Snapshot, problems);
            if (manifest is null)
            {
                continue;
            }

            claimed.Add(manifest.StreamFile);
            if (!streamFiles.TryGetValue(manifest.StreamFile, out var streamPath))
            {
                problems.Add($"{path}: its stream file {manifest.StreamFile} is missing");
                continue;
            }

            streams.Add(new StoredStream(manifest, path, streamPath));
        }

        orphans.AddRange(streamFiles.Where(kv => !claimed.Contains(kv.Key)).Select(kv => kv.Value).Order(StringComparer.Ordinal));
        streams.Sort((a, b) => string.CompareOrdinal(a.Manifest.Snapshot.Value, b.Manifest.Snapshot.Value));
        return new SetContents(set, dir, streams, problems, orphans, temps) { NamesInUse = names };
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

    private static Manifest? ReadManifest(string path, BackupSet set, SnapshotName snapshot, List<string> problems)
    {
        byte[] bytes;
        try
        {
            using var file = File.OpenRead(path);
            if (file.Length > ManifestReader.MaxBytes)
            {
                problems.Add($"{path}: manifest is {file.Length} bytes, more than {ManifestReader.MaxBytes}");
                return null;
            }

            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (IOException ex)
        {
            problems.Add($"{path}: cannot read: {ex.Message}");
            return null;
        }
        catch (UnauthorizedAccessException ex)
        {
            problems.Add($"{path}: cannot read: {ex.Message}");
            return null;
        }

        var parsed = ManifestReader.Parse(bytes, path);
        if (!parsed.IsValid)
        {
            problems.Add($"{path}: {string.Join("; ", parsed.Errors)}");
            return null;
        }

        var manifest = parsed.Manifest!;
        if (manifest.Set != set || manifest.Snapshot != snapshot)
        {
            problems.Add($"{path}: manifest says set '{manifest.Set}' snapshot '{manifest.Snapshot}', but the file is {set}/{snapshot}.manifest");
            return null;
        }

        return manifest;
    }
}

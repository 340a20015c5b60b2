using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.ObjectStore;

/// <summary>
/// Where each stored file lives in the bucket (docs/offsite.md, "Object layout"): the same names
/// as in the receiver's BACKUP_ROOT, under S3_PREFIX:
/// <c>PREFIX/SET/SNAPSHOT.full.btrfs.gpg</c> (or <c>.incr.btrfs.gpg</c>) and <c>PREFIX/SET/SNAPSHOT.manifest</c>.
/// A stream's object is written before its manifest's, so a manifest in the bucket means its
/// stream is there and complete, as a manifest file does on disk. Keys are built only from
/// validated names and a validated prefix.
/// </summary>
public sealed record ObjectLayout(string Prefix)
{
    /// <summary>The key prefix of every object of <paramref name="set"/>, ending in '/'.</summary>
    public string SetPrefix(BackupSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Prefix.Length == 0 ? set.Value + "/" : $"{Prefix}/{set.Value}/";
    }

    /// <summary>The key of a stored file (<see cref="StoredFileName.Value"/>) of <paramref name="set"/>.</summary>
    public string Key(BackupSet set, string storedFileName)
    {
        ArgumentNullException.ThrowIfNull(storedFileName);
        if (StoredFileName.TryParse(storedFileName) is null)
        {
            throw new ArgumentException($"not a stored file name: {storedFileName}", nameof(storedFileName));
        }

        return SetPrefix(set) + storedFileName;
    }

    public string StreamKey(BackupSet set, SnapshotName snapshot, StreamKind kind) => Key(set, StoredFileName.StreamFileName(snapshot, kind));

    public string ManifestKey(BackupSet set, SnapshotName snapshot) => Key(set, StoredFileName.ManifestFileName(snapshot));

    /// <summary>
    /// The stored file a key of <paramref name="set"/> names, or null for any other key (another
    /// set's, a deeper one, or a name that is not ours: such objects are never read nor deleted).
    /// </summary>
    public StoredFileName? Parse(BackupSet set, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var prefix = SetPrefix(set);
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = key[prefix.Length..];
        return rest.Contains('/', StringComparison.Ordinal) ? null : StoredFileName.TryParse(rest);
    }
}

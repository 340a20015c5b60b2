using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Storage;

/// <summary>
/// What one backup set's directory holds, read strictly: committed streams (manifest + stream
/// file), and everything that is not one — problems (unreadable or inconsistent manifests, a
/// manifest whose stream file is missing), orphan stream files without a manifest, and temp files.
/// </summary>
public sealed record SetContents(
    BackupSet Set,
    string DirPath,
    IReadOnlyList<StoredStream> Streams,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> OrphanFilePaths,
    IReadOnlyList<string> TempFilePaths)
{
    /// <summary>True when every manifest read cleanly and names an existing stream file.</summary>
    public bool IsReadable => Problems.Count == 0;

    /// <summary>Any stored file (manifest or stream of either kind) uses this snapshot name.</summary>
    public bool HasName(SnapshotName snapshot) => NamesInUse.Contains(snapshot.Value);

    /// <summary>Every snapshot name that some file in the directory uses (committed, orphan or broken).</summary>
    public IReadOnlySet<string> NamesInUse { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    public StoredStream? Find(SnapshotName snapshot) => Streams.FirstOrDefault(s => s.Manifest.Snapshot == snapshot);

    /// <summary>Newest first by the snapshot's time.</summary>
    public StoredStream? Newest => Streams.MaxBy(s => s.Manifest.Snapshot.TimestampUtc);

    /// <summary>The chain resolver over the committed streams.</summary>
    public ChainResolver Chains() => new(Streams.Select(s => new ChainLink(
        s.Manifest.Snapshot.Value, s.Manifest.Kind == StreamKind.Incremental, s.Manifest.Parent?.Value)));
}

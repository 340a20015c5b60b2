using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// One stored stream as a restore source sees it: from a manifest (<see cref="Manifest"/> set:
/// size and SHA-256 known) or from a receiver's <c>list</c> line (size only).
/// </summary>
internal sealed record RestoreLink(SnapshotName Snapshot, StreamKind Kind, SnapshotName? Parent, long Bytes, Manifest? Manifest = null)
{
    public bool IsIncremental => Kind == StreamKind.Incremental;

    /// <summary>The stored file's name: <c>&lt;snapshot&gt;.full.btrfs.gpg</c> or <c>.incr.btrfs.gpg</c>.</summary>
    public string StreamFileName => StoredFileName.StreamFileName(Snapshot, Kind);

    /// <summary>The source snapshot's UUID as the producer declared it, when a manifest is at hand.</summary>
    public string? SnapshotUuid => Manifest?.SnapshotUuid;

    public ChainLink ToChainLink() => new(Snapshot.Value, IsIncremental, Parent?.Value);

    public static RestoreLink From(Manifest manifest) => new(manifest.Snapshot, manifest.Kind, manifest.Parent, manifest.StreamBytes, manifest);
}

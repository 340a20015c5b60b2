using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// One stored stream as a restore source sees it: from a manifest (<see cref="Manifest"/> set:
/// size and SHA-256 known) or from a receiver's <c>list</c> line (size, and the manifest's canary
/// token and zstd compression as the receiver reported them).
/// </summary>
internal sealed record RestoreLink(SnapshotName Snapshot, StreamKind Kind, SnapshotName? Parent, long Bytes, Manifest? Manifest = null)
{
    public bool IsIncremental => Kind == StreamKind.Incremental;

    /// <summary>From a receiver's <c>list</c> line: the <c>canary=</c> it reported from its manifest.</summary>
    public string? ListedCanaryToken { get; init; }

    /// <summary>
    /// From a receiver's <c>list</c> line: true when it reported <c>compression=zstd</c>. Without it
    /// the stream is uncompressed (or the receiver predates the token) and the decrypted stream's
    /// first bytes decide.
    /// </summary>
    public bool IsListedZstd { get; init; }

    /// <summary>
    /// From a receiver's <c>list</c> line: the send protocol it reported (<c>proto=2</c>, else 1).
    /// The decrypted stream's header must say the same.
    /// </summary>
    public int? ListedSendProto { get; init; }

    /// <summary>The send protocol the manifest or the list line declares (null: neither is at hand).</summary>
    public int? DeclaredSendProto => Manifest?.SendProto ?? ListedSendProto;

    /// <summary>The token the producer wrote into CANARY_FILE before the snapshot, from the manifest or the list line.</summary>
    public string? CanaryToken => Manifest?.CanaryToken ?? ListedCanaryToken;

    /// <summary>True when the manifest or the list line says the stream was zstd-compressed before encryption.</summary>
    public bool IsDeclaredZstd => Manifest?.Compression == StreamCompression.Zstd || IsListedZstd;

    /// <summary>The stored file's name: <c>&lt;snapshot&gt;.full.btrfs.gpg</c> or <c>.incr.btrfs.gpg</c>.</summary>
    public string StreamFileName => StoredFileName.StreamFileName(Snapshot, Kind);

    /// <summary>The source snapshot's UUID as the producer declared it, when a manifest is at hand.</summary>
    public string? SnapshotUuid => Manifest?.SnapshotUuid;

    public ChainLink ToChainLink() => new(Snapshot.Value, IsIncremental, Parent?.Value);

    public static RestoreLink From(Manifest manifest) => new(manifest.Snapshot, manifest.Kind, manifest.Parent, manifest.StreamBytes, manifest);
}

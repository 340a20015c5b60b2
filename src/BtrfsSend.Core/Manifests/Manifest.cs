using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Manifests;

/// <summary>
/// The <c>&lt;snapshot&gt;.manifest</c> beside every stored stream (docs/manifest.md).
/// Written by the receiver from the validated command and what it measured itself.
/// </summary>
public sealed record Manifest
{
    public const string FormatLine = "format=btrfs-send-manifest/1";

    public required BackupSet Set { get; init; }

    public required SnapshotName Snapshot { get; init; }

    public required StreamKind Kind { get; init; }

    /// <summary>The parent snapshot; set exactly when <see cref="Kind"/> is incremental.</summary>
    public SnapshotName? Parent { get; init; }

    /// <summary>Bytes of the stored file, as counted by the receiver.</summary>
    public required long StreamBytes { get; init; }

    /// <summary>SHA-256 of the stored bytes, 64 lowercase hex digits, as computed by the receiver.</summary>
    public required string StreamSha256 { get; init; }

    public required StreamEncryption Encryption { get; init; }

    public required StreamCompression Compression { get; init; }

    /// <summary>btrfs send stream protocol version, 1 or 2.</summary>
    public required int SendProto { get; init; }

    /// <summary>When the receiver committed the stream, by its own clock (UTC, whole seconds).</summary>
    public required DateTime ReceivedAtUtc { get; init; }

    /// <summary>The client the receiver's authorized_keys line named.</summary>
    public required string Client { get; init; }

    /// <summary>Declared by the producer: the source snapshot's btrfs UUID.</summary>
    public string? SnapshotUuid { get; init; }

    /// <summary>Declared by the producer: the parent snapshot's btrfs UUID (incremental only).</summary>
    public string? ParentUuid { get; init; }

    /// <summary>Declared by the producer: its version string.</summary>
    public string? ProducerVersion { get; init; }

    /// <summary>Declared by the producer: the token it wrote into CANARY_FILE before the snapshot (32 lowercase hex).</summary>
    public string? CanaryToken { get; init; }

    /// <summary>
    /// Where the manifest came from when not from a receive: <c>legacy</c> for a stream the shell
    /// scripts stored and <c>adopt</c> took over (its received_at is the file's modification time).
    /// </summary>
    public string? Origin { get; init; }

    /// <summary>
    /// True when <c>adopt</c> chose <see cref="Parent"/> as the previous snapshot of the set because
    /// the scripts' manifest did not name one: an assumption until <c>verify</c> compares the streams' UUIDs.
    /// </summary>
    public bool ParentInferred { get; init; }

    /// <summary>For an adopted stream: the file name under which the scripts' own manifest was kept.</summary>
    public string? LegacyManifest { get; init; }

    /// <summary>Keys this version does not know, kept in their order so the format can grow.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> UnknownKeys { get; init; } = [];

    /// <summary>The stored stream's file name, derived from snapshot and kind.</summary>
    public string StreamFile => StoredFileName.StreamFileName(Snapshot, Kind);

    public bool Equals(Manifest? other) =>
        other is not null
        && Set == other.Set
        && Snapshot == other.Snapshot
        && Kind == other.Kind
        && Parent == other.Parent
        && StreamBytes == other.StreamBytes
        && StreamSha256 == other.StreamSha256
        && Encryption == other.Encryption
        && Compression == other.Compression
        && SendProto == other.SendProto
        && ReceivedAtUtc == other.ReceivedAtUtc
        && Client == other.Client
        && SnapshotUuid == other.SnapshotUuid
        && ParentUuid == other.ParentUuid
        && ProducerVersion == other.ProducerVersion
        && CanaryToken == other.CanaryToken
        && Origin == other.Origin
        && ParentInferred == other.ParentInferred
        && LegacyManifest == other.LegacyManifest
        && UnknownKeys.SequenceEqual(other.UnknownKeys);

    public override int GetHashCode() => HashCode.Combine(Set, Snapshot, Kind, Parent, StreamBytes, StreamSha256, ReceivedAtUtc, UnknownKeys.Count);
}

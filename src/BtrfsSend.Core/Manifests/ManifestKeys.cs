using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Manifests;

/// <summary>The keys of manifest format 1, in the order they are written.</summary>
internal static class ManifestKeys
{
    public const string Format = "format";
    public const string Set = "set";
    public const string Snapshot = "snapshot";
    public const string Kind = "kind";
    public const string Parent = "parent";
    public const string StreamFile = "stream_file";
    public const string StreamBytes = "stream_bytes";
    public const string StreamSha256 = "stream_sha256";
    public const string Encryption = "encryption";
    public const string Compression = "compression";
    public const string SendProto = "send_proto";
    public const string ReceivedAt = "received_at";
    public const string Client = "client";
    public const string SnapshotUuid = "snapshot_uuid";
    public const string ParentUuid = "parent_uuid";
    public const string ProducerVersion = "producer_version";
    public const string CanaryToken = "canary_token";
    public const string Origin = "origin";
    public const string ParentInferred = "parent_inferred";
    public const string LegacyManifest = "legacy_manifest";

    /// <summary>The <c>origin</c> of a manifest written by <c>adopt</c> for a stream the shell scripts stored.</summary>
    public const string LegacyOrigin = "legacy";

    public const string ReceivedAtFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'";

    public static readonly string[] Known =
    [
        Format, Set, Snapshot, Kind, Parent, StreamFile, StreamBytes, StreamSha256, Encryption,
        Compression, SendProto, ReceivedAt, Client, SnapshotUuid, ParentUuid, ProducerVersion, CanaryToken,
        Origin, ParentInferred, LegacyManifest,
    ];

    public static readonly string[] Required =
    [
        Set, Snapshot, Kind, StreamFile, StreamBytes, StreamSha256, Encryption, Compression, SendProto, ReceivedAt, Client,
    ];

    /// <summary>Exactly 32 characters of [0-9a-f]: a canary token, on the wire and in a manifest.</summary>
    public static bool IsCanaryToken(string? value)
        => value is { Length: 32 } && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    public static string Text(StreamKind kind) => kind == StreamKind.Full ? "full" : "incremental";

    public static string Text(StreamEncryption e) => e switch
    {
        StreamEncryption.OpenPgpSymmetric => "openpgp-symmetric",
        StreamEncryption.OpenPgpPubkey => "openpgp-pubkey",
        _ => "none",
    };

    public static string Text(StreamCompression c) => c == StreamCompression.Zstd ? "zstd" : "none";
}

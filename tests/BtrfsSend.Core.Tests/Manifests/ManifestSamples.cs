using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Tests.Manifests;

internal static class ManifestSamples
{
    public const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    public static Manifest Full() => new()
    {
        Set = BackupSet.Parse("prod-srv/rootfs"),
        Snapshot = SnapshotName.Parse("prod-srv-rootfs-20260304T020500Z"),
        Kind = StreamKind.Full,
        StreamBytes = 1_234_567_890,
        StreamSha256 = Sha,
        Encryption = StreamEncryption.OpenPgpSymmetric,
        Compression = StreamCompression.None,
        SendProto = 1,
        ReceivedAtUtc = new DateTime(2026, 3, 4, 2, 7, 31, DateTimeKind.Utc),
        Client = "prod-srv",
        SnapshotUuid = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        ProducerVersion = "0.1.0",
    };

    public static Manifest Incremental() => Full() with
    {
        Snapshot = SnapshotName.Parse("prod-srv-rootfs-20260305T020500Z"),
        Kind = StreamKind.Incremental,
        Parent = SnapshotName.Parse("prod-srv-rootfs-20260304T020500Z"),
        StreamBytes = 52_428_800,
        ReceivedAtUtc = new DateTime(2026, 3, 5, 2, 6, 2, DateTimeKind.Utc),
        SnapshotUuid = "aa2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        ParentUuid = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        Compression = StreamCompression.Zstd,
        SendProto = 2,
    };

    public const string FullText =
        "format=btrfs-send-manifest/1\n" +
        "set=prod-srv/rootfs\n" +
        "snapshot=prod-srv-rootfs-20260304T020500Z\n" +
        "kind=full\n" +
        "stream_file=prod-srv-rootfs-20260304T020500Z.full.btrfs.gpg\n" +
        "stream_bytes=1234567890\n" +
        "stream_sha256=" + Sha + "\n" +
        "encryption=openpgp-symmetric\n" +
        "compression=none\n" +
        "send_proto=1\n" +
        "received_at=2026-03-04T02:07:31Z\n" +
        "client=prod-srv\n" +
        "snapshot_uuid=3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d\n" +
        "producer_version=0.1.0\n";
}

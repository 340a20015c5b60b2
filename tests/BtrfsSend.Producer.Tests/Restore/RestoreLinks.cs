using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Tests.Restore;

/// <summary>Builds links for the pure restore tests: <c>host-20260101T000000Z</c> plus i hours.</summary>
internal static class RestoreLinks
{
    public static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");

    public static SnapshotName Name(int i) => SnapshotName.Create("host", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddHours(i));

    public static RestoreLink Full(int i, long bytes = 1000) => new(Name(i), StreamKind.Full, null, bytes);

    public static RestoreLink Incremental(int i, int parent, long bytes = 100) => new(Name(i), StreamKind.Incremental, Name(parent), bytes);

    /// <summary>A full at 0 and incrementals 1..n-1, each on the one before.</summary>
    public static IReadOnlyList<RestoreLink> Linear(int n)
        => Enumerable.Range(0, n).Select(i => i == 0 ? Full(0) : Incremental(i, i - 1)).ToList();
}

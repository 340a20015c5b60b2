using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class RequestTests
{
    private static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");
    private static readonly SnapshotName Jan1 = SnapshotName.Parse("root-20240101T000000Z");
    private static readonly SnapshotName Jan2 = SnapshotName.Parse("root-20240102T000000Z");

    [Fact]
    public void Requests_render_the_canonical_command_lines()
    {
        Request[] requests =
        [
            new HelloRequest(),
            new ReceiveStreamRequest(Set, Jan1, false, null),
            new ReceiveStreamRequest(Set, Jan2, true, Jan1),
            new ListRequest(Set),
            new GetRequest(Set, Jan1),
            new OpenLuksRequest(),
            new ReceiveRequest(Set, Jan1, null),
            new ReceiveRequest(Set, Jan2, Jan1),
            new ListReceivedRequest(Set),
            new PruneReceivedRequest(Set),
            new CloseLuksRequest(),
        ];

        Snapshooter.Xunit.Snapshot.Match(requests.Select(r => $"{r.Verb}: {r.ToCommandLine()}").ToArray());
    }

    [Fact]
    public void An_incremental_request_cannot_be_built_without_a_valid_parent()
    {
        var home = SnapshotName.Parse("home-20231231T000000Z");

        Assert.Throws<ArgumentException>(() => new ReceiveStreamRequest(Set, Jan2, true, null));
        Assert.Throws<ArgumentException>(() => new ReceiveStreamRequest(Set, Jan2, false, Jan1));
        Assert.Throws<ArgumentException>(() => new ReceiveStreamRequest(Set, Jan1, true, Jan1));
        Assert.Throws<ArgumentException>(() => new ReceiveStreamRequest(Set, Jan1, true, Jan2));
        Assert.Throws<ArgumentException>(() => new ReceiveStreamRequest(Set, Jan1, true, home));
        Assert.Throws<ArgumentException>(() => new ReceiveRequest(Set, Jan1, Jan2));
        Assert.Throws<ArgumentException>(() => new ReceiveRequest(Set, Jan1, home));
    }
}

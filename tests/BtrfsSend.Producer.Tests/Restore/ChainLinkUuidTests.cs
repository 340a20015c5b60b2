using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Tests.Restore;

/// <summary>verify's check of each link by the streams' own UUIDs (the real-btrfs cases are in IntegrationTests/Migration).</summary>
public sealed class ChainLinkUuidTests
{
    private const string A = "root-20260101T000000Z";
    private const string B = "root-20260102T000000Z";
    private const string C = "root-20260103T000000Z";
    private const string UuidA = "aaaaaaaa-0000-4000-8000-000000000001";
    private const string UuidB = "bbbbbbbb-0000-4000-8000-000000000002";
    private const string UuidC = "cccccccc-0000-4000-8000-000000000003";

    private static LinkResult Result(string name, string? parent, string uuid, string? parentUuid)
        => new(new RestoreLink(SnapshotName.Parse(name), parent is null ? StreamKind.Full : StreamKind.Incremental, parent is null ? null : SnapshotName.Parse(parent), 10), 100, 5)
        {
            SubvolumeUuid = uuid,
            ParentUuid = parentUuid,
        };

    [Fact]
    public void A_chain_whose_uuids_match_prints_nothing()
        => Assert.Empty(ChainVerifier.CheckLinks([Result(A, null, UuidA, null), Result(B, A, UuidB, UuidA), Result(C, B, UuidC, UuidB)]));

    [Fact]
    public void A_link_whose_parent_uuid_is_another_streams_fails_and_names_the_right_one()
    {
        var lines = ChainVerifier.CheckLinks([Result(A, null, UuidA, null), Result(B, A, UuidB, UuidA), Result(C, B, UuidC, UuidA)]).ToList();

        var line = Assert.Single(lines);
        Assert.Equal($"FAIL  {C}  chain: its parent {B} does not match: the stream was sent against the subvolume {UuidA}, but {B}'s stream creates {UuidB}; the stream that creates it is {A}; restoring {C} will fail", line);
    }

    [Fact]
    public void A_stream_stored_under_the_other_kind_fails()
    {
        var lines = ChainVerifier.CheckLinks([Result(A, null, UuidA, UuidC), Result(B, A, UuidB, null)]).ToList();

        Assert.Equal(2, lines.Count);
        Assert.Contains("stored as a full stream, but the stream is an incremental against the subvolume " + UuidC, lines[0], StringComparison.Ordinal);
        Assert.Contains("stored as an incremental, but the stream is a full stream", lines[1], StringComparison.Ordinal);
    }
}

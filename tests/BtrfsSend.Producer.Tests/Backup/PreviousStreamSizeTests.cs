using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class PreviousStreamSizeTests
{
    private static readonly DateTime At = new(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly IReadOnlyList<ListEntryLine> Listed =
    [
        Entry("p-20261201T000000Z", null, 5_000_000),
        Entry("p-20261202T000000Z", "p-20261201T000000Z", 300),
        Entry("p-20261203T000000Z", "p-20261202T000000Z", 700),
        Entry("p-20261204T000000Z", null, 6_000_000),
    ];

    [Fact]
    public void An_incremental_is_estimated_from_the_newest_incremental_not_the_newer_full()
    {
        Assert.Equal(700, PreviousStreamSize.Estimate(Listed, isIncremental: true, StreamCompression.None));
    }

    [Fact]
    public void A_full_is_estimated_from_the_newest_full()
    {
        Assert.Equal(6_000_000, PreviousStreamSize.Estimate(Listed, isIncremental: false, StreamCompression.None));
    }

    [Fact]
    public void There_is_no_estimate_without_a_stream_of_that_kind_or_with_compression()
    {
        Assert.Null(PreviousStreamSize.Estimate([Listed[0]], isIncremental: true, StreamCompression.None));
        Assert.Null(PreviousStreamSize.Estimate(Listed, isIncremental: true, StreamCompression.Zstd));
        Assert.Null(PreviousStreamSize.Estimate([Listed[2] with { Compression = StreamCompression.Zstd }], isIncremental: true, StreamCompression.None));
    }

    private static ListEntryLine Entry(string snapshot, string? parent, long bytes)
        => new(SnapshotName.Parse(snapshot), parent is not null, parent is null ? null : SnapshotName.Parse(parent), bytes, At);
}

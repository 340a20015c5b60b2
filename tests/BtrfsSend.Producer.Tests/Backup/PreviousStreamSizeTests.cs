using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;

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

    [Fact]
    public void The_send_stream_bytes_recorded_locally_come_first_in_every_mode_and_with_zstd()
    {
        Assert.Equal(650, PreviousStreamSize.Estimate(Listed, isIncremental: true, StreamCompression.None, recorded: 650));
        Assert.Equal(650, PreviousStreamSize.Estimate(Listed, isIncremental: true, StreamCompression.Zstd, recorded: 650));
        Assert.Equal(650, PreviousStreamSize.Estimate([], isIncremental: true, StreamCompression.None, recorded: 650));
    }

    [Fact]
    public void A_list_received_answer_gives_no_estimate_because_it_lists_no_sizes()
    {
        // list-received: "<snapshot> full - 0 <time>" for every received subvolume.
        IReadOnlyList<ListEntryLine> received = [Entry("p-20261201T000000Z", null, 0), Entry("p-20261202T000000Z", null, 0)];

        Assert.Null(PreviousStreamSize.Estimate(received, isIncremental: false, StreamCompression.None));
        Assert.Null(PreviousStreamSize.Estimate(received, isIncremental: true, StreamCompression.None));
        Assert.Equal(123, PreviousStreamSize.Estimate(received, isIncremental: true, StreamCompression.None, recorded: 123));
    }

    [Fact]
    public void The_progress_logs_where_its_estimate_came_from_or_that_there_is_none()
    {
        using var dir = new TempDir("sizes");
        var sizes = new LastStreamSizes(dir.Sub("state.sizes"));
        var log = new LogMessages();
        var logger = log.Logger;
        var set = BackupSet.Parse("prod-srv/rootfs");

        using (PreviousStreamSize.Progress(set, [], isIncremental: true, StreamCompression.Zstd, sizes, logger))
        {
        }

        sizes.Write(isIncremental: true, 4242);
        using (PreviousStreamSize.Progress(set, Listed, isIncremental: true, StreamCompression.Zstd, sizes, logger))
        {
        }

        using (PreviousStreamSize.Progress(set, Listed, isIncremental: false, StreamCompression.None, sizes, logger))
        {
        }

        Assert.Equal(3, log.Lines.Count);
        Assert.EndsWith(": no ETA estimate: no previous incremental stream of comparable size", log.Lines[0], StringComparison.Ordinal);
        Assert.EndsWith($": ETA estimated from the previous incremental stream: 4242 send-stream bytes (from {sizes.FilePath})", log.Lines[1], StringComparison.Ordinal);
        Assert.EndsWith(": ETA estimated from the previous full stream: 6000000 send-stream bytes (from the receiver's list)", log.Lines[2], StringComparison.Ordinal);
    }

    private static ListEntryLine Entry(string snapshot, string? parent, long bytes)
        => new(SnapshotName.Parse(snapshot), parent is not null, parent is null ? null : SnapshotName.Parse(parent), bytes, At);
}

using BtrfsSend.Core.Streams;

namespace BtrfsSend.Core.Tests.Streams;

public sealed class BandwidthLimitedStreamTests
{
    [Fact]
    public void Without_a_limit_the_stream_itself_is_used()
    {
        using var inner = new MemoryStream();

        Assert.Same(inner, BandwidthLimitedStream.Wrap(inner, null, TimeProvider.System));
    }

    [Fact]
    public async Task Writes_pass_every_byte_in_order_in_pieces_no_larger_than_one_burst()
    {
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        var inner = new PieceRecorder();
        var clock = new FakeClock();
        var bucket = new TokenBucket(1L << 30, clock);
        await using var limited = new BandwidthLimitedStream(inner, bucket, clock);

        await limited.WriteAsync(data);
        limited.Write(data);

        Assert.Equal([.. data, .. data], inner.ToArray());
        Assert.All(inner.Pieces, n => Assert.InRange(n, 1, bucket.Burst));
    }

    [Fact]
    public async Task Reads_return_every_byte_and_no_more_than_one_burst_at_a_time()
    {
        var data = new byte[10_000];
        new Random(8).NextBytes(data);
        var bucket = new TokenBucket(1L << 30, TimeProvider.System);
        await using var limited = new BandwidthLimitedStream(new MemoryStream(data), bucket, TimeProvider.System);
        var buffer = new byte[1 << 20];
        using var copy = new MemoryStream();
        int n;
        while ((n = await limited.ReadAsync(buffer)) > 0)
        {
            Assert.InRange(n, 1, bucket.Burst);
            copy.Write(buffer, 0, n);
        }

        Assert.Equal(data, copy.ToArray());
    }

    [Fact]
    public async Task A_write_beyond_the_saved_up_burst_waits_for_the_bucket()
    {
        var bucket = new TokenBucket(1024, TimeProvider.System);
        await using var limited = new BandwidthLimitedStream(Stream.Null, bucket, TimeProvider.System);
        var started = TimeProvider.System.GetTimestamp();

        await limited.WriteAsync(new byte[2048]);

        // The first KiB is the saved-up burst; the second costs a second at 1 KiB/s (a lower bound only).
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromSeconds(0.9));
    }

    private sealed class PieceRecorder : MemoryStream
    {
        public List<int> Pieces { get; } = [];

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Pieces.Add(buffer.Length);
            base.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Pieces.Add(buffer.Length);
            return base.WriteAsync(buffer, cancellationToken);
        }
    }
}

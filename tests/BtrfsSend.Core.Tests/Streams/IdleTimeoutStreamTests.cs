using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Streams;

namespace BtrfsSend.Core.Tests.Streams;

public sealed class IdleTimeoutStreamTests
{
    [Fact]
    public async Task A_peer_that_stalls_longer_than_the_timeout_is_cut_off_with_a_message_naming_it()
    {
        var peer = new ChunkChannelStream();
        await using var stream = new IdleTimeoutStream(peer, TimeSpan.FromMilliseconds(300), "the client");

        var ex = await Assert.ThrowsAsync<IdleTimeoutException>(() => stream.ReadAsync(new byte[16]).AsTask());

        Assert.StartsWith("the client sent nothing for ", ex.Message);
        Assert.Contains("(idle timeout); the transfer was abandoned", ex.Message);
    }

    [Fact]
    public async Task Reads_that_each_arrive_within_the_timeout_are_never_cut_off_however_long_the_transfer_takes()
    {
        // One token source serves every read: its timer must be re-armed per read, not once per stream.
        var timeout = TimeSpan.FromSeconds(2.5);
        var peer = new ChunkChannelStream();
        await using var stream = new IdleTimeoutStream(peer, timeout, "the client");
        var sender = Task.Run(async () =>
        {
            for (var i = 0; i < 8; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                peer.Send((byte)i);
            }

            peer.End();
        });

        var started = DateTime.UtcNow;
        var received = new List<byte>();
        var buffer = new byte[4];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            received.AddRange(buffer[..n]);
        }

        await sender;
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (byte)i), received);
        Assert.True(DateTime.UtcNow - started > timeout, "the transfer must outlast the timeout for this test to mean anything");
    }

    [Fact]
    public async Task A_read_after_a_timed_out_read_waits_afresh_instead_of_inheriting_the_cancellation()
    {
        var peer = new ChunkChannelStream();
        await using var stream = new IdleTimeoutStream(peer, TimeSpan.FromMilliseconds(300), "the client");
        await Assert.ThrowsAsync<IdleTimeoutException>(() => stream.ReadAsync(new byte[4]).AsTask());

        peer.Send(1, 2, 3);
        var buffer = new byte[4];
        var n = await stream.ReadAsync(buffer);

        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..n]);
    }

    [Fact]
    public async Task The_callers_cancellation_is_an_OperationCanceledException_and_does_not_cancel_the_next_read()
    {
        var peer = new ChunkChannelStream();
        await using var stream = new IdleTimeoutStream(peer, TimeSpan.FromSeconds(30), "the client");
        using var caller = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.ReadAsync(new byte[4], caller.Token).AsTask());
        Assert.IsNotType<IdleTimeoutException>(ex);

        peer.Send(7);
        var buffer = new byte[4];
        Assert.Equal(1, await stream.ReadAsync(buffer, CancellationToken.None));
        Assert.Equal(7, buffer[0]);
    }

    [Fact]
    public async Task A_read_that_was_never_cancelled_leaves_no_pending_cancellation_for_the_next_one()
    {
        // The timer of a completed read is stopped: reading again after longer than the timeout
        // (the peer was idle between two reads, not during one) still waits for the data.
        var peer = new ChunkChannelStream();
        await using var stream = new IdleTimeoutStream(peer, TimeSpan.FromSeconds(1), "the client");
        peer.Send(1);
        Assert.Equal(1, await stream.ReadAsync(new byte[4]));

        await Task.Delay(TimeSpan.FromSeconds(2));
        var next = stream.ReadAsync(new byte[4]).AsTask();
        peer.Send(2);

        Assert.Equal(1, await next);
    }

    [Fact]
    public async Task Reads_that_find_data_waiting_allocate_nothing_per_read()
    {
        // Per read, the timeout used to cost a linked token source and its timer (and the
        // synchronous read a new array): the receiver reads thousands of times per GiB.
        var peer = new ChunkChannelStream();
        await using var stream = new IdleTimeoutStream(peer, TimeSpan.FromSeconds(30), "the client");
        var chunk = new byte[64 * 1024];
        var buffer = new byte[chunk.Length];
        for (var i = 0; i < 2200; i++)
        {
            peer.Send(chunk);
        }

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(chunk.Length, await stream.ReadAsync(buffer));
            Assert.Equal(chunk.Length, stream.Read(buffer));
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var bytes = 0L;
        for (var i = 0; i < 1000; i++)
        {
            bytes += await stream.ReadAsync(buffer);
            bytes += stream.Read(buffer);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2000L * chunk.Length, bytes);
        Assert.True(allocated < 64 * 1024, $"2000 reads allocated {allocated} bytes");
    }
}

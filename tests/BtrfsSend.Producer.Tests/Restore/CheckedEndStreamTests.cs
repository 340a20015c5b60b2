using System.Security.Cryptography;
using BtrfsSend.Core.Errors;
using BtrfsSend.Producer.Restore;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Restore;

public sealed class CheckedEndStreamTests
{
    private static readonly byte[] Data = RandomNumberGenerator.GetBytes(3000);
    private static readonly string DataSha = Convert.ToHexStringLower(SHA256.HashData(Data));

    [Fact]
    public async Task The_exact_bytes_with_the_recorded_hash_read_to_a_verified_end()
    {
        await using var check = new CheckedEndStream(new MemoryStream(Data), Data.Length, DataSha, "f");

        var copy = new MemoryStream();
        await check.CopyToAsync(copy);

        Assert.True(check.IsVerified);
        Assert.Equal(Data, copy.ToArray());
    }

    [Fact]
    public async Task Reader_detects_truncation_at_every_offset()
    {
        for (var cut = 0; cut < Data.Length; cut += 97)
        {
            await using var check = new CheckedEndStream(new MemoryStream(Data[..cut]), Data.Length, null, "f");
            var failure = await Assert.ThrowsAsync<IntegrityException>(() => check.EnsureEndAsync());
            Assert.Contains($"ended after {cut} bytes, but {Data.Length} are recorded for it (truncated)", failure.Message, StringComparison.Ordinal);
            Assert.False(check.IsVerified);
        }
    }

    [Fact]
    public async Task Extra_bytes_beyond_the_recorded_size_are_refused()
    {
        await using var check = new CheckedEndStream(new MemoryStream([.. Data, 0]), Data.Length, DataSha, "f");

        var failure = await Assert.ThrowsAsync<IntegrityException>(() => check.EnsureEndAsync());

        Assert.Contains("is longer than the 3000 bytes recorded for it", failure.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public Property Any_flipped_byte_fails_the_hash_check_and_every_later_read_fails_too() =>
        Prop.ForAll(Gen.Choose(0, Data.Length - 1).ToArbitrary(), Gen.Choose(1, 255).ToArbitrary(), (at, mask) =>
        {
            var damaged = (byte[])Data.Clone();
            damaged[at] ^= (byte)mask;
            using var check = new CheckedEndStream(new MemoryStream(damaged), Data.Length, DataSha, "f");
            var first = Record.Exception(() => check.CopyTo(Stream.Null));
            var again = Record.Exception(() => check.ReadByte());
            return first is IntegrityException e && e.Message.Contains("(modified or corrupt)", StringComparison.Ordinal)
                && again is IntegrityException && !check.IsVerified;
        });

    [Fact]
    public async Task Every_byte_is_handed_over_in_order_before_a_hash_mismatch_and_the_end_is_never_reported()
    {
        var data = RandomNumberGenerator.GetBytes((CheckedEndStream.SlotCount * CheckedEndStream.SlotSize * 2) + 12345);
        var wrong = Convert.ToHexStringLower(SHA256.HashData([.. data, 0]));
        await using var check = new CheckedEndStream(new MemoryStream(data), data.Length, wrong, "f");

        var copy = new MemoryStream();
        var buffer = new byte[7777];
        var failure = await Record.ExceptionAsync(async () =>
        {
            int n;
            while ((n = await check.ReadAsync(buffer)) > 0)
            {
                copy.Write(buffer, 0, n);
            }
        });

        Assert.Contains("(modified or corrupt)", Assert.IsType<IntegrityException>(failure).Message, StringComparison.Ordinal);
        Assert.Equal(data, copy.ToArray());
        Assert.False(check.IsVerified);
        Assert.Same(failure, Record.Exception(() => check.Read(buffer)));
    }

    [Fact]
    public async Task The_stored_bytes_are_read_and_hashed_ahead_of_the_reader_but_never_more_than_the_read_ahead_ring()
    {
        var ring = CheckedEndStream.SlotCount * CheckedEndStream.SlotSize;
        var inner = new EndlessStream();
        await using var check = new CheckedEndStream(inner, long.MaxValue, null, "f");

        Assert.Equal(1, check.Read(new byte[1]));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (inner.BytesRead < ring && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await Task.Delay(200);
        Assert.Equal(ring, inner.BytesRead);
        Assert.NotEqual(Environment.CurrentManagedThreadId, inner.ReaderThreadId);
        Assert.Equal(1, check.BytesRead);
    }

    [Fact]
    public async Task Disposing_partway_stops_the_read_ahead()
    {
        var inner = new EndlessStream();
        var check = new CheckedEndStream(inner, long.MaxValue, null, "f");
        Assert.Equal(1, check.Read(new byte[1]));

        await check.DisposeAsync();
        var after = inner.BytesRead;
        await Task.Delay(200);

        Assert.Equal(after, inner.BytesRead);
    }

    [Fact]
    public async Task Disposing_the_stream_under_a_waiting_reader_ends_its_wait()
    {
        using var gate = new ManualResetEventSlim();
        var check = new CheckedEndStream(new GatedStream(gate), long.MaxValue, null, "f");
        var reader = Task.Run(() => check.Read(new byte[10]));
        await Task.Delay(200);

        var disposing = Task.Run(check.Dispose);
        var ended = await Record.ExceptionAsync(() => reader.WaitAsync(TimeSpan.FromSeconds(5)));
        gate.Set();
        await disposing.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.IsAssignableFrom<OperationCanceledException>(ended);
    }

    /// <summary>Blocks every read until the gate opens, then ends.</summary>
    private sealed class GatedStream(ManualResetEventSlim gate) : Core.Streams.ReadOnlyStream
    {
        public override int Read(Span<byte> buffer)
        {
            gate.Wait();
            return 0;
        }
    }

    /// <summary>Zero bytes without end; counts what was read and remembers the reading thread.</summary>
    private sealed class EndlessStream : Core.Streams.ReadOnlyStream
    {
        private long _bytesRead;

        public long BytesRead => Interlocked.Read(ref _bytesRead);

        public int ReaderThreadId { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            ReaderThreadId = Environment.CurrentManagedThreadId;
            buffer.Clear();
            Interlocked.Add(ref _bytesRead, buffer.Length);
            return buffer.Length;
        }
    }
}

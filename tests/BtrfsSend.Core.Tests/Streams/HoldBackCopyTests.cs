using BtrfsSend.Core.Streams;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Streams;

public sealed class HoldBackCopyTests
{
    private static byte[] Data(int length) => Enumerable.Range(0, length).Select(i => (byte)(i * 31 + 7)).ToArray();

    [Fact]
    public async Task The_final_write_never_happens_when_the_check_fails()
    {
        var data = Data(10_000);
        var destination = new MemoryStream();

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => HoldBackCopy.CopyAsync(
            new TrickleStream(data, 4096), destination, _ => throw new InvalidDataException("MDC mismatch"), bufferSize: 4096));

        Assert.Equal("MDC mismatch", ex.Message);
        Assert.Equal(data[..8192], destination.ToArray());
    }

    [Fact]
    public async Task The_check_runs_only_after_the_source_reached_its_end()
    {
        var data = Data(5000);
        var source = new TrickleStream(data, 1000);
        var destination = new MemoryStream();
        long writtenAtCheck = -1;
        var leftAtCheck = -1;

        var written = await HoldBackCopy.CopyAsync(source, destination, _ =>
        {
            writtenAtCheck = destination.Length;
            leftAtCheck = source.Read(new byte[10]);
            return Task.CompletedTask;
        }, bufferSize: 1000);

        Assert.Equal(0, leftAtCheck);
        Assert.Equal(4000, writtenAtCheck);
        Assert.Equal(5000, written);
        Assert.Equal(data, destination.ToArray());
    }

    [Fact]
    public async Task An_empty_source_still_runs_the_check_and_writes_nothing()
    {
        var checks = 0;
        var destination = new MemoryStream();

        var written = await HoldBackCopy.CopyAsync(new MemoryStream(), destination, _ =>
        {
            checks++;
            return Task.CompletedTask;
        });

        Assert.Equal(1, checks);
        Assert.Equal(0, written);
        Assert.Equal(0, destination.Length);
    }

    [Fact]
    public async Task A_failing_source_propagates_and_the_check_never_runs()
    {
        var checks = 0;
        var source = new ConcatFailing(Data(3000));

        await Assert.ThrowsAsync<IOException>(() => HoldBackCopy.CopyAsync(source, new MemoryStream(), _ =>
        {
            checks++;
            return Task.CompletedTask;
        }, bufferSize: 1024));

        Assert.Equal(0, checks);
    }

    [Property(MaxTest = 300)]
    public Property Every_chunking_copies_everything_when_the_check_passes_and_all_but_the_last_read_when_it_fails() =>
        Prop.ForAll(
            Gen.Choose(0, 20_000).ToArbitrary(),
            Gen.Choose(1, 5000).ToArbitrary(),
            Gen.Choose(1, 5000).ToArbitrary(),
            (length, maxRead, bufferSize) => HoldsBackTheLastRead(HoldBackCopy.CopyAsync, length, maxRead, bufferSize));

    [Property(MaxTest = 300)]
    public Property The_overlapped_copy_holds_back_the_last_read_the_same_way_for_every_chunking() =>
        Prop.ForAll(
            Gen.Choose(0, 20_000).ToArbitrary(),
            Gen.Choose(1, 5000).ToArbitrary(),
            Gen.Choose(1, 5000).ToArbitrary(),
            (length, maxRead, bufferSize) => HoldsBackTheLastRead(HoldBackCopy.CopyOverlappedAsync, length, maxRead, bufferSize));

    [Fact]
    public async Task The_overlapped_copy_reads_the_next_buffer_while_a_write_is_still_in_progress()
    {
        var data = Data(4096);
        var firstWriteStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseWrites = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var destination = new GatedWriteStream(firstWriteStarted, releaseWrites.Task);
        var source = new MemoryStream(data);

        var copy = HoldBackCopy.CopyOverlappedAsync(source, destination, _ => Task.CompletedTask, bufferSize: 1024);
        await firstWriteStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (source.Position < 3072 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        // The first buffer is still being written, yet the next one was read (and held) meanwhile.
        Assert.Equal(3072, source.Position);
        Assert.Equal(0, destination.Length);
        releaseWrites.SetResult();
        Assert.Equal(4096, await copy.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(data, destination.ToArray());
    }

    [Fact]
    public async Task The_overlapped_copy_writes_nothing_more_after_a_failing_source_and_never_runs_the_check()
    {
        var checks = 0;
        var destination = new MemoryStream();

        await Assert.ThrowsAsync<IOException>(() => HoldBackCopy.CopyOverlappedAsync(new ConcatFailing(Data(3000)), destination, _ =>
        {
            checks++;
            return Task.CompletedTask;
        }, bufferSize: 1024));

        Assert.Equal(0, checks);
        Assert.Equal(Data(3000)[..2048], destination.ToArray());
    }

    private static bool HoldsBackTheLastRead(
        Func<Stream, Stream, Func<CancellationToken, Task>, int, CancellationToken, Task<long>> copy, int length, int maxRead, int bufferSize)
    {
        var data = Data(length);
        var passed = new MemoryStream();
        var written = copy(new TrickleStream(data, maxRead), passed, _ => Task.CompletedTask, bufferSize, CancellationToken.None).GetAwaiter().GetResult();

        var failed = new MemoryStream();
        var threw = false;
        try
        {
            copy(new TrickleStream(data, maxRead), failed, _ => throw new InvalidDataException(), bufferSize, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (InvalidDataException)
        {
            threw = true;
        }

        var read = Math.Min(maxRead, bufferSize);
        var last = length == 0 ? 0 : length % read == 0 ? read : length % read;
        return written == length
               && passed.ToArray().SequenceEqual(data)
               && threw
               && failed.ToArray().SequenceEqual(data[..(length - last)]);
    }

    /// <summary>A memory stream whose writes wait for a gate; the first one signals that it started.</summary>
    private sealed class GatedWriteStream(TaskCompletionSource firstWriteStarted, Task gate) : MemoryStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            firstWriteStarted.TrySetResult();
            await gate;
            await base.WriteAsync(buffer, cancellationToken);
        }
    }

    /// <summary>Hands out its bytes, then fails the way a truncated pipe or a bad MDC does.</summary>
    private sealed class ConcatFailing(byte[] data) : Stream
    {
        private readonly TrickleStream _inner = new(data, 1024);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = _inner.Read(buffer, offset, count);
            return n > 0 ? n : throw new IOException("connection reset");
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

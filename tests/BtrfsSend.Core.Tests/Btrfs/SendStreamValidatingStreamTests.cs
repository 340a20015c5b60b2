using BtrfsSend.Core.Btrfs;

namespace BtrfsSend.Core.Tests.Btrfs;

public sealed class SendStreamValidatingStreamTests
{
    [Fact]
    public async Task Writing_forwards_every_byte_unchanged_and_completes_after_END()
    {
        var data = SendStreamVectors.FullV2;
        using var sink = new MemoryStream();
        await using var stream = SendStreamValidatingStream.ForWriting(sink, leaveOpen: true);

        foreach (var chunk in data.Chunk(100))
        {
            await stream.WriteAsync(chunk);
        }

        stream.Complete();
        Assert.Equal(data, sink.ToArray());
        Assert.Equal(data.Length, stream.Position);
    }

    [Fact]
    public void Writing_refuses_a_corrupt_chunk_before_forwarding_it()
    {
        var data = SendStreamVectors.FullV1;
        data[500] ^= 0x01;
        using var sink = new MemoryStream();
        using var stream = SendStreamValidatingStream.ForWriting(sink, leaveOpen: true);

        var fault = Assert.Throws<SendStreamException>(() =>
        {
            foreach (var chunk in data.Chunk(256))
            {
                stream.Write(chunk);
            }
        });

        Assert.Equal(SendStreamFault.CrcMismatch, fault.Fault);
        Assert.True(sink.Length < 500, $"{sink.Length} bytes were forwarded, including the corrupt command");
    }

    [Fact]
    public void Completing_a_write_of_a_cut_stream_throws_truncated()
    {
        var data = SendStreamVectors.FullV1;
        using var sink = new MemoryStream();
        using var stream = SendStreamValidatingStream.ForWriting(sink);
        stream.Write(data, 0, data.Length - 1);

        var fault = Assert.Throws<SendStreamException>(stream.Complete);

        Assert.Equal(SendStreamFault.Truncated, fault.Fault);
    }

    [Fact]
    public async Task Reading_returns_every_byte_unchanged_and_then_EOF()
    {
        var data = SendStreamVectors.IncrementalV1;
        await using var stream = SendStreamValidatingStream.ForReading(new MemoryStream(data));
        using var copy = new MemoryStream();

        await stream.CopyToAsync(copy, 64);

        Assert.Equal(data, copy.ToArray());
        Assert.True(stream.Validator.IsAtEnd);
    }

    [Fact]
    public void Reading_a_cut_stream_throws_at_EOF_instead_of_returning_zero()
    {
        var data = SendStreamVectors.IncrementalV1[..^3];
        using var stream = SendStreamValidatingStream.ForReading(new MemoryStream(data));
        using var copy = new MemoryStream();

        var fault = Assert.Throws<SendStreamException>(() => stream.CopyTo(copy, 50));

        Assert.Equal(SendStreamFault.Truncated, fault.Fault);
        Assert.Equal(data.Length, fault.Offset);
    }

    [Fact]
    public void Reading_refuses_a_corrupt_buffer_before_returning_it()
    {
        var data = SendStreamVectors.FullV1;
        data[^5] ^= 0x80;
        using var stream = SendStreamValidatingStream.ForReading(new MemoryStream(data));
        var buffer = new byte[data.Length];

        Assert.Throws<SendStreamException>(() => stream.ReadExactly(buffer));
    }

    [Fact]
    public void A_reading_stream_cannot_be_written_and_a_writing_stream_cannot_be_read()
    {
        using var reader = SendStreamValidatingStream.ForReading(new MemoryStream());
        using var writer = SendStreamValidatingStream.ForWriting(new MemoryStream());

        Assert.False(reader.CanWrite);
        Assert.False(writer.CanRead);
        Assert.Throws<NotSupportedException>(() => reader.Write([1]));
        Assert.Throws<NotSupportedException>(() => writer.ReadByte());
    }
}

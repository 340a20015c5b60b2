using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class Bsf1WriterTests
{
    [Fact]
    public void Writer_lays_out_magic_frames_end_marker_and_trailer_byte_for_byte()
    {
        var framed = Bsf1Bytes.Frame(Encoding.ASCII.GetBytes("hello world"), frameLength: 4);

        Snapshooter.Xunit.Snapshot.Match(HexDump(framed));
    }

    [Fact]
    public void Writer_cuts_frames_at_the_frame_length_whatever_the_write_sizes()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4, writeChunk: 3);

        Assert.Equal([4, 4, 2, 0], FrameLengths(framed));
    }

    [Fact]
    public void Writer_of_an_empty_payload_writes_magic_end_marker_and_the_hash_of_nothing()
    {
        var framed = Bsf1Bytes.Frame([]);

        Assert.Equal(4 + 4 + 40, framed.Length);
        Assert.Equal("BSF1"u8.ToArray(), framed[..4]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(framed.AsSpan(4)));
        Assert.Equal(0ul, BinaryPrimitives.ReadUInt64BigEndian(framed.AsSpan(8)));
        Assert.Equal(SHA256.HashData(ReadOnlySpan<byte>.Empty), framed[16..]);
    }

    [Fact]
    public async Task Writer_reports_count_and_hash_after_completion()
    {
        var payload = Bsf1Bytes.Payload(100_000);
        await using var writer = new Bsf1Writer(new MemoryStream(), frameLength: 4096);
        await writer.WriteAsync(payload);

        Assert.Throws<InvalidOperationException>(() => writer.Sha256);
        await writer.CompleteAsync();

        Assert.True(writer.IsComplete);
        Assert.Equal(100_000, writer.PayloadBytes);
        Assert.Equal(SHA256.HashData(payload), writer.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), writer.Sha256Hex);
    }

    [Fact]
    public void Writer_disposed_without_completion_writes_no_end_marker_or_trailer()
    {
        var output = new MemoryStream();
        using (var writer = new Bsf1Writer(output, frameLength: 4, leaveOpen: true))
        {
            writer.Write(Bsf1Bytes.Payload(10));
        }

        var framed = output.ToArray();
        Assert.Equal([4, 4], FrameLengths(framed));
        Assert.Equal(4 + 8 + 8, framed.Length);
        Assert.Equal(FramingError.Truncated, Bsf1Bytes.ErrorOf(framed)?.Error);
    }

    [Fact]
    public void Writer_disposed_before_any_write_writes_nothing()
    {
        var output = new MemoryStream();
        using (new Bsf1Writer(output, leaveOpen: true))
        {
        }

        Assert.Equal(0, output.Length);
    }

    [Fact]
    public async Task Writer_refuses_to_complete_after_a_failed_write()
    {
        var inner = new FailingStream(okWrites: 1);
        await using var writer = new Bsf1Writer(inner, frameLength: 4, leaveOpen: true);

        Assert.Throws<IOException>(() => writer.Write(Bsf1Bytes.Payload(10)));
        var written = inner.Written.Length;

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        Assert.Throws<InvalidOperationException>(() => writer.Write(new byte[1]));
        Assert.Equal(written, inner.Written.Length);
        Assert.False(writer.IsComplete);
    }

    [Fact]
    public async Task Writer_refuses_to_complete_after_a_failed_async_write()
    {
        var inner = new FailingStream(okWrites: 0);
        await using var writer = new Bsf1Writer(inner, frameLength: 4, leaveOpen: true);

        await Assert.ThrowsAsync<IOException>(async () => await writer.WriteAsync(Bsf1Bytes.Payload(10)));

        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
        Assert.Equal(0, inner.Written.Length);
    }

    [Fact]
    public async Task Writer_refuses_writes_after_completion()
    {
        await using var writer = new Bsf1Writer(new MemoryStream());
        await writer.CompleteAsync();

        Assert.Throws<InvalidOperationException>(() => writer.Write(new byte[1]));
        await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CompleteAsync());
    }

    [Fact]
    public void Writer_flush_sends_buffered_bytes_as_a_short_frame()
    {
        var output = new MemoryStream();
        using var writer = new Bsf1Writer(output, frameLength: 1024, leaveOpen: true);
        writer.Write(Bsf1Bytes.Payload(3));
        Assert.Equal(0, output.Length);

        writer.Flush();

        Assert.Equal(4 + 4 + 3, output.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(Bsf1.MaxFrameLength + 1)]
    public void Writer_refuses_a_frame_length_outside_1_to_16_MiB(int frameLength)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new Bsf1Writer(new MemoryStream(), frameLength));

    [Fact]
    public void Writer_disposes_its_inner_stream_unless_asked_to_leave_it_open()
    {
        var closed = new MemoryStream();
        var open = new MemoryStream();
        new Bsf1Writer(closed).Dispose();
        new Bsf1Writer(open, leaveOpen: true).Dispose();

        Assert.False(closed.CanWrite);
        Assert.True(open.CanWrite);
    }

    internal static List<int> FrameLengths(byte[] framed)
    {
        var lengths = new List<int>();
        var at = 4;
        while (at + 4 <= framed.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(framed.AsSpan(at));
            lengths.Add(length);
            if (length == 0)
            {
                break;
            }

            at += 4 + length;
        }

        return lengths;
    }

    private static string HexDump(byte[] bytes)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < bytes.Length; i += 16)
        {
            var line = bytes.AsSpan(i, Math.Min(16, bytes.Length - i));
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i:x8}  ");
            foreach (var b in line)
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"{b:x2} ");
            }

            sb.Append(' ', (16 - line.Length) * 3).Append(" |");
            foreach (var b in line)
            {
                sb.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }

            sb.Append("|\n");
        }

        return sb.ToString();
    }
}

using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class Bsf1ExtentTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(11, 4)]
    [InlineData(100_000, 4096)]
    [InlineData(100_000, 1)]
    public void An_extent_ends_right_after_the_trailer_and_leaves_what_follows_unread(int length, int maxRead)
    {
        var payload = Bsf1Bytes.Payload(length);
        var framed = Bsf1Bytes.Frame(payload, frameLength: 4093);
        var after = "list a\n"u8.ToArray();
        var input = new TrickleStream([.. framed, .. after], maxRead);

        var extent = new Bsf1Extent(input);
        using var reader = new Bsf1Reader(extent, leaveOpen: true);
        var output = new MemoryStream();
        reader.CopyTo(output);

        Assert.True(reader.IsComplete);
        Assert.True(extent.IsAtEnd);
        Assert.Equal(payload, output.ToArray());
        var rest = new MemoryStream();
        input.CopyTo(rest);
        Assert.Equal(after, rest.ToArray());
    }

    [Fact]
    public async Task An_extent_read_asynchronously_ends_at_the_trailer_too()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(5000), frameLength: 1000);
        var input = new MemoryStream([.. framed, (byte)'x']);

        await using var reader = new Bsf1Reader(new Bsf1Extent(input), leaveOpen: true);
        var output = new MemoryStream();
        await reader.CopyToAsync(output);

        Assert.True(reader.IsComplete);
        Assert.Equal(framed.Length, input.Position);
    }

    [Fact]
    public void A_cut_stream_through_an_extent_is_still_truncated()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(5000), frameLength: 1000);

        using var reader = new Bsf1Reader(new Bsf1Extent(new MemoryStream(framed[..^10])));

        var error = Assert.Throws<FramingException>(() => reader.CopyTo(Stream.Null));
        Assert.Equal(FramingError.Truncated, error.Error);
    }

    [Fact]
    public void An_oversize_frame_length_ends_the_extent_and_the_reader_refuses_it()
    {
        byte[] framed = [.. "BSF1"u8, 0x01, 0x00, 0x00, 0x01, .. new byte[64]];

        using var reader = new Bsf1Reader(new Bsf1Extent(new MemoryStream(framed)));

        var error = Assert.Throws<FramingException>(() => reader.CopyTo(Stream.Null));
        Assert.Equal(FramingError.OversizeFrame, error.Error);
    }
}

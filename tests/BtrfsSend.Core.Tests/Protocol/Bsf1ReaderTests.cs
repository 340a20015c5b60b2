using System.Buffers.Binary;
using System.Security.Cryptography;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class Bsf1ReaderTests
{
    private static readonly Gen<(byte[] Payload, int FrameLength, int WriteChunk, int MaxRead)> RoundTripCase =
        from length in Gen.Frequency((1, Gen.Constant(0)), (8, Gen.Choose(1, 3000)))
        from frameLength in Gen.Frequency(
            (3, Gen.Choose(1, 64)),
            (1, Gen.Elements(1, 2, 1024, Bsf1.DefaultFrameLength)),
            (1, Gen.Constant(Math.Max(1, length))),
            (1, Gen.Choose(1, 8).Select(k => Math.Max(1, length / k))))
        from writeChunk in Gen.Choose(1, 5000)
        from maxRead in Gen.Choose(1, 5000)
        from seed in Gen.Choose(0, int.MaxValue)
        select (Bsf1Bytes.Payload(length, seed), frameLength, writeChunk, maxRead);

    [Property(MaxTest = 300)]
    public Property Payload_survives_a_round_trip_for_any_data_frame_size_and_read_pieces()
        => Prop.ForAll(RoundTripCase.ToArbitrary(), c =>
        {
            var framed = Bsf1Bytes.Frame(c.Payload, c.FrameLength, c.WriteChunk);
            return Bsf1Bytes.Unframe(framed, c.MaxRead).AsSpan().SequenceEqual(c.Payload);
        });

    [Property(MaxTest = 100)]
    public Property Payload_survives_an_async_round_trip_with_small_read_buffers()
        => Prop.ForAll(RoundTripCase.ToArbitrary(), c =>
        {
            var framed = Bsf1Bytes.Frame(c.Payload, c.FrameLength, c.WriteChunk);
            var bufferSize = (c.MaxRead % 97) + 1;
            return Bsf1Bytes.UnframeAsync(framed, c.MaxRead, bufferSize).GetAwaiter().GetResult().AsSpan().SequenceEqual(c.Payload);
        });

    [Property(MaxTest = 500)]
    public Property Random_bytes_after_the_magic_are_refused_with_a_framing_error_and_nothing_else()
        => Prop.ForAll(
            Gen.Choose(0, 200).SelectMany(n => Gen.ArrayOf(Gen.Frequency((3, Gen.Choose(0, 255)), (1, Gen.Constant(0))).Select(b => (byte)b), n)).ToArbitrary(),
            junk => Bsf1Bytes.ErrorOf([.. "BSF1"u8, .. junk]) is not null);

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 1)]
    [InlineData(10, 4)]
    [InlineData(12, 4)]
    [InlineData(7, 1024)]
    public void Truncation_at_every_offset_is_reported_as_truncated_at_that_offset(int payloadLength, int frameLength)
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(payloadLength), frameLength);

        for (var cut = 0; cut < framed.Length; cut++)
        {
            foreach (var maxRead in new[] { 1, 3, int.MaxValue })
            {
                var error = Bsf1Bytes.ErrorOf(framed[..cut], maxRead);

                Assert.True(error is not null, $"cut at {cut} of {framed.Length} was accepted");
                Assert.Equal(FramingError.Truncated, error.Error);
                Assert.Equal(cut, error.Offset);
            }

            var asyncError = Assert.Throws<FramingException>(() => Bsf1Bytes.UnframeAsync(framed[..cut], maxRead: 2, bufferSize: 3).GetAwaiter().GetResult());
            Assert.Equal(FramingError.Truncated, asyncError.Error);
            Assert.Equal(cut, asyncError.Offset);
        }
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 1)]
    [InlineData(10, 4)]
    [InlineData(9, 3)]
    [InlineData(20, 1024)]
    public void Any_single_flipped_bit_anywhere_is_detected(int payloadLength, int frameLength)
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(payloadLength, seed: payloadLength), frameLength);

        for (var bit = 0; bit < framed.Length * 8; bit++)
        {
            var flipped = (byte[])framed.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));

            Assert.True(Bsf1Bytes.ErrorOf(flipped) is not null, $"flipped bit {bit} (byte {bit / 8}) was accepted");
        }
    }

    [Fact]
    public void Flipped_bits_in_each_region_give_the_matching_error()
    {
        // payload 10, frames 4+4+2: magic 0..3, lengths at 4, 12, 20, end marker at 26, count at 30, hash at 38.
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4);

        Assert.Equal(FramingError.BadMagic, ErrorAfterFlip(framed, 0));
        Assert.Equal(FramingError.OversizeFrame, ErrorAfterFlip(framed, 4));
        Assert.Equal(FramingError.HashMismatch, ErrorAfterFlip(framed, 9));
        Assert.Equal(FramingError.CountMismatch, ErrorAfterFlip(framed, 37));
        Assert.Equal(FramingError.HashMismatch, ErrorAfterFlip(framed, 50));
        Assert.Equal(FramingError.Truncated, ErrorAfterFlip(framed, 29));
    }

    [Theory]
    [InlineData("")]
    [InlineData("B")]
    [InlineData("BSF")]
    public void A_cut_inside_a_correct_magic_is_truncation(string text)
        => Assert.Equal(FramingError.Truncated, Bsf1Bytes.ErrorOf(System.Text.Encoding.ASCII.GetBytes(text))?.Error);

    [Theory]
    [InlineData("BSF2")]
    [InlineData("bsf1")]
    [InlineData("hello, world\n")]
    [InlineData("X")]
    [InlineData("ERR bad-command nope\n")]
    public void Input_that_does_not_start_with_the_magic_is_bad_magic(string text)
    {
        var error = Bsf1Bytes.ErrorOf(System.Text.Encoding.ASCII.GetBytes(text));

        Assert.Equal(FramingError.BadMagic, error?.Error);
        Assert.Equal(0, error?.Offset);
    }

    [Fact]
    public void A_frame_longer_than_16_MiB_is_refused_before_its_payload_is_read()
    {
        var framed = new byte[8];
        "BSF1"u8.CopyTo(framed);
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(4), Bsf1.MaxFrameLength + 1);

        var error = Bsf1Bytes.ErrorOf(framed);

        Assert.Equal(FramingError.OversizeFrame, error?.Error);
        Assert.Equal(4, error?.Offset);
    }

    [Fact]
    public void A_frame_of_exactly_16_MiB_is_accepted()
    {
        var payload = Bsf1Bytes.Payload(Bsf1.MaxFrameLength + 1);
        var framed = Bsf1Bytes.Frame(payload, Bsf1.MaxFrameLength);

        Assert.Equal([Bsf1.MaxFrameLength, 1, 0], Bsf1WriterTests.FrameLengths(framed));
        Assert.True(Bsf1Bytes.Unframe(framed).AsSpan().SequenceEqual(payload));
    }

    [Fact]
    public void A_trailer_whose_count_differs_is_a_count_mismatch()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4);
        var count = framed.Length - 40;
        BinaryPrimitives.WriteUInt64BigEndian(framed.AsSpan(count), 11);

        var error = Bsf1Bytes.ErrorOf(framed);

        Assert.Equal(FramingError.CountMismatch, error?.Error);
        Assert.Contains("declares 11 payload bytes but 10 arrived", error?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trailer_whose_hash_differs_is_a_hash_mismatch()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4);
        framed[^1] ^= 0x80;

        Assert.Equal(FramingError.HashMismatch, Bsf1Bytes.ErrorOf(framed)?.Error);
    }

    [Fact]
    public void Bytes_after_the_trailer_are_refused()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4);

        var error = Bsf1Bytes.ErrorOf([.. framed, 0]);

        Assert.Equal(FramingError.TrailingBytes, error?.Error);
        Assert.Equal(framed.Length, error?.Offset);
    }

    [Fact]
    public void A_second_stream_appended_to_the_first_is_refused()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4);

        Assert.Equal(FramingError.TrailingBytes, Bsf1Bytes.ErrorOf([.. framed, .. framed])?.Error);
    }

    [Theory]
    [InlineData(10, 10, null)]
    [InlineData(10, 9, FramingError.TooLarge)]
    [InlineData(0, 0, null)]
    [InlineData(1, 0, FramingError.TooLarge)]
    public void A_payload_over_the_limit_is_too_large(int payloadLength, long limit, FramingError? expected)
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(payloadLength), frameLength: 4);

        Assert.Equal(expected, Bsf1Bytes.ErrorOf(framed, maxPayloadBytes: limit)?.Error);
    }

    [Fact]
    public void Reader_reports_verified_count_and_hash_only_after_the_trailer()
    {
        var payload = Bsf1Bytes.Payload(10);
        using var reader = new Bsf1Reader(new MemoryStream(Bsf1Bytes.Frame(payload, frameLength: 4)));
        var buffer = new byte[100];

        var first = reader.Read(buffer);
        Assert.Equal(4, first);
        Assert.False(reader.IsComplete);
        Assert.Throws<InvalidOperationException>(() => reader.Sha256Hex);

        while (reader.Read(buffer) > 0)
        {
        }

        Assert.True(reader.IsComplete);
        Assert.Equal(10, reader.PayloadBytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), reader.Sha256Hex);
        Assert.Equal(0, reader.Read(buffer));
    }

    [Fact]
    public void Reader_keeps_failing_after_an_error_and_never_returns_end_of_stream()
    {
        var framed = Bsf1Bytes.Frame(Bsf1Bytes.Payload(10), frameLength: 4);
        using var reader = new Bsf1Reader(new MemoryStream(framed[..10]));
        var buffer = new byte[100];

        Assert.Equal(2, reader.Read(buffer));
        var first = Assert.Throws<FramingException>(() => reader.Read(buffer));
        var second = Assert.Throws<FramingException>(() => reader.Read(buffer));

        Assert.Equal(FramingError.Truncated, first.Error);
        Assert.Same(first, second);
        Assert.False(reader.IsComplete);
    }

    [Theory]
    [InlineData(FramingError.Truncated, ExitCode.TransferFailed, ErrorCodes.Truncated)]
    [InlineData(FramingError.TooLarge, ExitCode.Refused, ErrorCodes.TooLarge)]
    [InlineData(FramingError.BadMagic, ExitCode.IntegrityFailed, ErrorCodes.BadFrame)]
    [InlineData(FramingError.OversizeFrame, ExitCode.IntegrityFailed, ErrorCodes.BadFrame)]
    [InlineData(FramingError.TrailingBytes, ExitCode.IntegrityFailed, ErrorCodes.BadFrame)]
    [InlineData(FramingError.CountMismatch, ExitCode.IntegrityFailed, ErrorCodes.BadTrailer)]
    [InlineData(FramingError.HashMismatch, ExitCode.IntegrityFailed, ErrorCodes.HashMismatch)]
    public void Framing_errors_map_to_an_exit_code_and_an_ERR_code(FramingError error, ExitCode exitCode, string errCode)
    {
        var e = new FramingException(error, 0, "x");

        Assert.Equal(exitCode, e.ExitCode);
        Assert.Equal(errCode, e.ErrorCode);
        Assert.Contains(errCode, ErrorCodes.All);
    }

    private static FramingError? ErrorAfterFlip(byte[] framed, int byteIndex)
    {
        var flipped = (byte[])framed.Clone();
        flipped[byteIndex] ^= byteIndex is 4 ? (byte)0x80 : (byte)0x01;
        return Bsf1Bytes.ErrorOf(flipped)?.Error;
    }
}

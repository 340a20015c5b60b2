using System.Buffers.Binary;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Errors;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Btrfs;

public sealed class SendStreamValidatorTests
{
    private const int FirstCommand = SendStreamValidator.StreamHeaderLength;

    [Theory]
    [InlineData("full-v1.stream", 1)]
    [InlineData("full-v2.stream", 2)]
    [InlineData("incr-v1.stream", 1)]
    public void Validator_accepts_real_btrfs_send_output(string name, int version)
    {
        var data = SendStreamVectors.Load(name);
        var validator = new SendStreamValidator();

        validator.Feed(data);
        validator.Complete();

        Assert.Equal(version, validator.Version);
        Assert.Equal(data.Length, validator.BytesSeen);
        Assert.Equal(1, validator.CompletedStreams);
        Assert.True(validator.CommandCount > 3);
        Assert.True(validator.IsAtEnd);
    }

    [Theory]
    [InlineData("full-v1.stream", 2)]
    [InlineData("full-v2.stream", 1)]
    [InlineData("incr-v1.stream", 2)]
    public void A_header_version_other_than_the_declared_send_proto_is_refused_before_any_command(string name, int declared)
    {
        var data = SendStreamVectors.Load(name);

        var fault = SendStreamVectors.Fault(new SendStreamValidator(expectedVersion: declared), data, [data.Length]);

        Assert.NotNull(fault);
        Assert.Equal(SendStreamFault.VersionMismatch, fault.Fault);
        Assert.Equal(13, fault.Offset);
        Assert.Contains($"declared as send_proto {declared}", fault.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("full-v1.stream", 1)]
    [InlineData("full-v2.stream", 2)]
    public void A_stream_whose_header_matches_the_declared_send_proto_is_accepted(string name, int declared)
        => Assert.Null(SendStreamVectors.Fault(new SendStreamValidator(expectedVersion: declared), SendStreamVectors.Load(name), [7]));

    [Fact]
    public void Crc_convention_is_seed_zero_without_final_inversion_over_the_zeroed_header_and_payload()
    {
        var data = SendStreamVectors.FullV1;
        var command = data.AsSpan(FirstCommand);
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(command);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(command[6..]);
        var bytes = command[..(SendStreamValidator.CommandHeaderLength + length)].ToArray();
        bytes.AsSpan(6, 4).Clear();

        var raw = SendStreamValidator.Crc32C(0, bytes);
        var standard = ~SendStreamValidator.Crc32C(~0u, bytes);

        Assert.Equal(stored, raw);
        Assert.NotEqual(stored, standard);
    }

    [Fact]
    public void Malformed_inputs_from_btrfs_progs_tests_are_refused_with_their_reason()
    {
        var cases = new Dictionary<string, byte[]>
        {
            ["empty"] = [],
            ["single byte 1"] = "1"u8.ToArray(),
            ["17 digits"] = "12345678901234567"u8.ToArray(),
            ["magic with version 0"] = "btrfs-stream\0\0\0\0\0"u8.ToArray(),
            ["magic with version 3"] = "btrfs-stream\0\x03\0\0\0"u8.ToArray(),
            ["magic only"] = "btrfs-stream\0"u8.ToArray(),
            ["header without commands"] = "btrfs-stream\0\x01\0\0\0"u8.ToArray(),
        };

        var faults = cases.ToDictionary(c => c.Key, c => SendStreamVectors.Fault(c.Value));

        Assert.All(faults.Values, f => Assert.NotNull(f));
        Assert.Equal(SendStreamFault.Truncated, faults["empty"]!.Fault);
        Assert.Equal(SendStreamFault.BadMagic, faults["single byte 1"]!.Fault);
        Assert.Equal(SendStreamFault.BadMagic, faults["17 digits"]!.Fault);
        Assert.Equal(SendStreamFault.UnsupportedVersion, faults["magic with version 0"]!.Fault);
        Assert.Equal(SendStreamFault.UnsupportedVersion, faults["magic with version 3"]!.Fault);
        Assert.Equal(SendStreamFault.Truncated, faults["magic only"]!.Fault);
        Assert.Equal(SendStreamFault.Truncated, faults["header without commands"]!.Fault);
        Snapshooter.Xunit.Snapshot.Match(faults.ToDictionary(f => f.Key, f => $"{f.Value!.Fault} @{f.Value.Offset}: {f.Value.Message}"));
    }

    [Fact]
    public void A_send_stream_failure_maps_to_the_integrity_exit_code()
    {
        var fault = SendStreamVectors.Fault([]);

        Assert.IsAssignableFrom<BtrfsSendException>(fault);
        Assert.Equal(ExitCode.IntegrityFailed, fault!.ExitCode);
    }

    [Fact]
    public void A_flipped_payload_byte_is_a_crc_mismatch_naming_the_command_and_its_offset()
    {
        var data = SendStreamVectors.FullV1;
        data[FirstCommand + SendStreamValidator.CommandHeaderLength + 5] ^= 0x40;

        var fault = SendStreamVectors.Fault(data);

        Assert.Equal(SendStreamFault.CrcMismatch, fault!.Fault);
        Assert.Equal(FirstCommand, fault.Offset);
        Assert.Contains("command #1 (type 1 SUBVOL", fault.Message, StringComparison.Ordinal);
        Assert.Contains($"at byte {FirstCommand}", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flipped_stored_crc_is_a_crc_mismatch()
    {
        var data = SendStreamVectors.FullV1;
        data[FirstCommand + 7] ^= 0x01;

        Assert.Equal(SendStreamFault.CrcMismatch, SendStreamVectors.Fault(data)!.Fault);
    }

    [Fact]
    public void A_command_type_changed_to_another_valid_type_is_a_crc_mismatch()
    {
        var data = SendStreamVectors.FullV1;
        data[FirstCommand + 4] = 3;

        Assert.Equal(SendStreamFault.CrcMismatch, SendStreamVectors.Fault(data)!.Fault);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 23)]
    [InlineData(1, 25)]
    [InlineData(2, 26)]
    [InlineData(2, 0xffff)]
    public void A_command_type_outside_the_stream_version_is_an_unknown_command(int version, int type)
    {
        var data = SendStreamVectors.Load(version == 1 ? "full-v1.stream" : "full-v2.stream");
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(FirstCommand + 4), (ushort)type);

        var fault = SendStreamVectors.Fault(data);

        Assert.Equal(SendStreamFault.UnknownCommand, fault!.Fault);
        Assert.Equal(FirstCommand, fault.Offset);
        Assert.Contains($"protocol version {version} allows types 1-{(version == 1 ? 22 : 25)}", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_length_beyond_the_maximum_is_refused_before_its_bytes_arrive()
    {
        var data = SendStreamVectors.FullV1;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(FirstCommand), SendStreamValidator.MaxCommandLength + 1u);
        var validator = new SendStreamValidator();

        var fault = Assert.Throws<SendStreamException>(() => validator.Feed(data.AsSpan(0, FirstCommand + SendStreamValidator.CommandHeaderLength)));

        Assert.Equal(SendStreamFault.OversizeCommand, fault.Fault);
        Assert.Contains($"claims {SendStreamValidator.MaxCommandLength + 1} payload bytes", fault.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncation_at_every_offset_is_detected_as_truncation()
    {
        var data = SendStreamVectors.FullV1;

        for (var cut = 0; cut < data.Length; cut++)
        {
            var fault = SendStreamVectors.Fault(data[..cut]);
            Assert.True(fault?.Fault == SendStreamFault.Truncated, $"cut at {cut}: {fault?.Message ?? "accepted"}");
            Assert.Equal(cut, fault!.Offset);
        }
    }

    [Fact]
    public void A_stream_cut_exactly_between_commands_says_END_is_missing()
    {
        var data = SendStreamVectors.FullV1;
        var cut = data.Length - SendStreamValidator.CommandHeaderLength; // the END command has no payload

        var fault = SendStreamVectors.Fault(data[..cut]);

        Assert.Contains("without an END command", fault!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("junk")]
    [InlineData("\0")]
    [InlineData("btrfs-stream\0")]
    public void Bytes_after_END_are_refused_as_trailing_data(string junk)
    {
        var data = SendStreamVectors.IncrementalV1.Concat(System.Text.Encoding.ASCII.GetBytes(junk)).ToArray();

        var fault = SendStreamVectors.Fault(data);

        Assert.Equal(SendStreamFault.TrailingData, fault!.Fault);
        Assert.Equal(SendStreamVectors.IncrementalV1.Length, fault.Offset);
    }

    [Fact]
    public void Every_single_bit_flip_in_a_real_stream_is_detected()
    {
        var original = SendStreamVectors.IncrementalV1;

        for (var bit = 0; bit < original.Length * 8; bit++)
        {
            var data = (byte[])original.Clone();
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.True(SendStreamVectors.Fault(data) is not null, $"flip of bit {bit} was accepted");
        }
    }

    [Property(MaxTest = 300)]
    public Property Any_single_bit_flip_in_a_v2_stream_is_detected()
    {
        var original = SendStreamVectors.FullV2;
        return Prop.ForAll(Gen.Choose(0, (original.Length * 8) - 1).ToArbitrary(), bit =>
        {
            var data = (byte[])original.Clone();
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            return SendStreamVectors.Fault(data) is not null;
        });
    }

    [Property(MaxTest = 200)]
    public Property Chunking_never_changes_the_verdict_or_the_counts()
    {
        var data = SendStreamVectors.FullV2;
        var whole = new SendStreamValidator();
        whole.Feed(data);
        whole.Complete();
        var chunks = Gen.Choose(1, 300).ArrayOf().Where(a => a.Length > 0).ToArbitrary();

        return Prop.ForAll(chunks, sizes =>
        {
            var validator = new SendStreamValidator();
            var fault = SendStreamVectors.Fault(validator, data, sizes);
            return fault is null
                && validator.CommandCount == whole.CommandCount
                && validator.BytesSeen == whole.BytesSeen;
        });
    }

    [Property(MaxTest = 200)]
    public Property Chunking_never_changes_where_a_corruption_is_found()
    {
        var data = SendStreamVectors.FullV1;
        data[600] ^= 0x10;
        var expected = SendStreamVectors.Fault(data)!;
        var chunks = Gen.Choose(1, 64).ArrayOf().Where(a => a.Length > 0).ToArbitrary();

        return Prop.ForAll(chunks, sizes =>
        {
            var fault = SendStreamVectors.Fault(new SendStreamValidator(), data, sizes);
            return fault is not null && fault.Fault == expected.Fault && fault.Offset == expected.Offset;
        });
    }

    [Fact]
    public void After_a_fault_every_further_call_throws_the_same_fault()
    {
        var validator = new SendStreamValidator();
        var first = Assert.Throws<SendStreamException>(() => validator.Feed("nope"u8));

        var again = Assert.Throws<SendStreamException>(() => validator.Feed(SendStreamVectors.FullV1));
        var atComplete = Assert.Throws<SendStreamException>(validator.Complete);

        Assert.Same(first, again);
        Assert.Same(first, atComplete);
        Assert.False(validator.IsAtEnd);
    }

    [RealFact("xz", NeedsRoot = false)]
    public async Task Four_concatenated_streams_are_refused_in_single_stream_mode_at_the_second_header()
    {
        var data = await SendStreamVectors.MultiCloneSourceAsync();

        var fault = SendStreamVectors.Fault(data);

        Assert.Equal(SendStreamVectors.MultiStreamLength, data.Length);
        Assert.Equal(SendStreamFault.TrailingData, fault!.Fault);
        Assert.Equal(SendStreamVectors.MultiStreamOffsets[1], fault.Offset);
        Assert.Contains("a second stream?", fault.Message, StringComparison.Ordinal);
    }

    [RealFact("xz", NeedsRoot = false)]
    public async Task Four_concatenated_streams_are_accepted_in_concatenated_mode()
    {
        var data = await SendStreamVectors.MultiCloneSourceAsync();
        var validator = new SendStreamValidator(allowConcatenatedStreams: true);

        var fault = SendStreamVectors.Fault(validator, data, [65536, 17, 1, 4093]);

        Assert.Null(fault);
        Assert.Equal(4, validator.CompletedStreams);
        Assert.Equal(1, validator.Version);
    }

    [RealFact("xz", NeedsRoot = false)]
    public async Task Concatenated_mode_still_refuses_a_corrupt_second_stream_header()
    {
        var data = await SendStreamVectors.MultiCloneSourceAsync();
        data[SendStreamVectors.MultiStreamOffsets[2] + 3] = (byte)'X';

        var fault = SendStreamVectors.Fault(data, allowConcatenated: true);

        Assert.Equal(SendStreamFault.BadMagic, fault!.Fault);
        Assert.Equal(SendStreamVectors.MultiStreamOffsets[2] + 3, fault.Offset);
        Assert.Contains("stream 3", fault.Message, StringComparison.Ordinal);
    }

    [RealFact("xz", NeedsRoot = false)]
    public async Task Concatenated_mode_refuses_a_sequence_cut_inside_its_last_stream()
    {
        var data = await SendStreamVectors.MultiCloneSourceAsync();

        var fault = SendStreamVectors.Fault(data[..^1], allowConcatenated: true);

        Assert.Equal(SendStreamFault.Truncated, fault!.Fault);
    }
}

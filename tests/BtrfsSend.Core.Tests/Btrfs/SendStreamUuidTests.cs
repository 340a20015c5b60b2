using BtrfsSend.Core.Btrfs;

namespace BtrfsSend.Core.Tests.Btrfs;

/// <summary>The UUIDs the validator reads from a stream's first command (SUBVOL or SNAPSHOT).</summary>
public sealed class SendStreamUuidTests
{
    private static SendStreamValidator Validate(byte[] data, int chunk)
    {
        var validator = new SendStreamValidator();
        for (var at = 0; at < data.Length; at += chunk)
        {
            validator.Feed(data.AsSpan(at, Math.Min(chunk, data.Length - at)));
        }

        validator.Complete();
        return validator;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1 << 20)]
    public void An_incremental_names_as_parent_the_uuid_of_the_subvolume_its_parents_stream_creates(int chunk)
    {
        var full = Validate(SendStreamVectors.FullV1, chunk);
        var incremental = Validate(SendStreamVectors.IncrementalV1, chunk);

        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", full.SubvolumeUuid);
        Assert.Null(full.ParentUuid);
        Assert.Equal(full.SubvolumeUuid, incremental.ParentUuid);
        Assert.Equal(full.SubvolumeCtransid, incremental.ParentCtransid);
        Assert.NotEqual(full.SubvolumeUuid, incremental.SubvolumeUuid);
        Assert.NotNull(incremental.SubvolumeUuid);
    }

    [Fact]
    public void A_version_2_full_stream_yields_the_same_subvolume_uuid_as_version_1()
        => Assert.Equal(Validate(SendStreamVectors.FullV1, 4096).SubvolumeUuid, Validate(SendStreamVectors.FullV2, 4096).SubvolumeUuid);

    [Fact]
    public void Uuid_text_is_lowercase_8_4_4_4_12_in_byte_order()
        => Assert.Equal("00112233-4455-6677-8899-aabbccddeeff", SendStreamValidator.UuidText([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]));
}

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
}

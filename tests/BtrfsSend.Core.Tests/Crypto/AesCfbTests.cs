using System.Security.Cryptography;
using BtrfsSend.Core.Crypto;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Crypto;

public class AesCfbTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(24)]
    [InlineData(32)]
    public void Block_function_matches_the_platform_AES_for_every_key_size(int keyLength)
    {
        for (var seed = 0; seed < 50; seed++)
        {
            var random = new Random(seed);
            var key = new byte[keyLength];
            var block = new byte[16];
            random.NextBytes(key);
            random.NextBytes(block);
            using var reference = Aes.Create();
            reference.Key = key;
            var expected = reference.EncryptEcb(block, PaddingMode.None);
            var actual = new byte[16];
            new AesCfb(key).EncryptBlock(block, actual);
            Assert.Equal(expected, actual);
        }
    }

    [Property(MaxTest = 200)]
    public Property Cfb_matches_the_platform_CFB128_with_a_zero_IV_whatever_the_split(byte[] data, PositiveInt split)
    {
        var key = new byte[32];
        new Random(data.Length).NextBytes(key);
        using var reference = Aes.Create();
        reference.Key = key;
        var padded = new byte[(data.Length + 15) / 16 * 16];
        data.CopyTo(padded, 0);
        var expected = reference.EncryptCfb(padded, new byte[16], PaddingMode.None, 128).AsSpan(0, data.Length).ToArray();

        var encryptor = new AesCfb(key);
        var actual = new byte[data.Length];
        var step = split.Get % 70 + 1;
        for (var i = 0; i < data.Length; i += step)
        {
            var n = Math.Min(step, data.Length - i);
            encryptor.Encrypt(data.AsSpan(i, n), actual.AsSpan(i, n));
        }

        var decryptor = new AesCfb(key);
        var roundTrip = new byte[data.Length];
        for (var i = 0; i < data.Length; i += step + 3)
        {
            var n = Math.Min(step + 3, data.Length - i);
            decryptor.Decrypt(actual.AsSpan(i, n), roundTrip.AsSpan(i, n));
        }

        return (expected.AsSpan().SequenceEqual(actual) && roundTrip.AsSpan().SequenceEqual(data)).ToProperty();
    }
}

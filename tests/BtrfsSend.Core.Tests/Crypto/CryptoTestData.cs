using System.Text;
using BtrfsSend.Core.Crypto;

namespace BtrfsSend.Core.Tests.Crypto;

/// <summary>Plaintext and in-memory encrypt/decrypt helpers for the crypto tests.</summary>
internal static class CryptoTestData
{
    public static readonly byte[] Passphrase = Encoding.UTF8.GetBytes("correct horse battery staple ünïcödé");

    /// <summary>Deterministic mixed data: alternating pseudo-random and text blocks.</summary>
    public static byte[] Mixed(int length, int seed = 1)
    {
        var data = new byte[length];
        FillMixed(data, seed, 0);
        return data;
    }

    public static void FillMixed(Span<byte> data, int seed, long offset)
    {
        var random = new Random(seed ^ (int)(offset >> 16));
        var text = "btrfs send stream: subvolume snapshot chunk of compressible text 0123456789\n"u8;
        for (var i = 0; i < data.Length; i++)
        {
            var pos = offset + i;
            data[i] = ((pos >> 12) & 1) == 0 ? (byte)random.Next(256) : text[(int)(pos % text.Length)];
        }
    }

    public static async Task<byte[]> EncryptAsync(byte[] plaintext, EncryptionKeys keys, byte s2kCount = 0, int chunkShift = 9, int writeSize = 777)
    {
        using var output = new MemoryStream();
        await using (var stream = await OpenPgpEncryption.CreateAsync(output, keys, s2kCount, chunkShift))
        {
            for (var i = 0; i < plaintext.Length; i += writeSize)
            {
                stream.Write(plaintext.AsSpan(i, Math.Min(writeSize, plaintext.Length - i)));
            }

            await stream.FinishAsync();
        }

        return output.ToArray();
    }

    public static byte[] Decrypt(byte[] ciphertext, DecryptionKeys keys)
    {
        using var input = new MemoryStream(ciphertext);
        using var stream = OpenPgpDecryption.Open(input, keys);
        using var output = new MemoryStream();
        stream.CopyTo(output, 1000);
        Assert.True(stream.IsVerified);
        return output.ToArray();
    }

    /// <summary>The failure decrypting gives, or null when it succeeded with exactly <paramref name="expected"/>.</summary>
    public static OpenPgpFailure? FailureOf(byte[] ciphertext, DecryptionKeys keys, byte[] expected)
    {
        try
        {
            var plaintext = Decrypt(ciphertext, keys);
            Assert.Equal(expected, plaintext);
            return null;
        }
        catch (OpenPgpException ex)
        {
            return ex.Failure;
        }
    }
}

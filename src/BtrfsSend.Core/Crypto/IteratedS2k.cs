using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// RFC 4880 3.7.1.3 iterated and salted S2K on .NET's hashes (OpenSSL, SHA-NI) instead of
/// BouncyCastle's managed digests: the same bytes (tests compare both), a fraction of the CPU.
/// Every backup run and every restored link hashes 65 MB here (coded count 0xFF), which with the
/// managed SHA-256 was ~0.25 CPU-s of each run's fixed cost.
/// </summary>
internal static class IteratedS2k
{
    /// <summary>The key, or null for a hash this fast path does not cover (the caller falls back to BouncyCastle).</summary>
    public static byte[]? TryDerive(ReadOnlySpan<byte> passphrase, HashAlgorithmTag hash, ReadOnlySpan<byte> salt, byte codedCount, int keyLength)
    {
        HashAlgorithmName? name = hash switch
        {
            HashAlgorithmTag.Sha1 => HashAlgorithmName.SHA1,
            HashAlgorithmTag.Sha256 => HashAlgorithmName.SHA256,
            HashAlgorithmTag.Sha384 => HashAlgorithmName.SHA384,
            HashAlgorithmTag.Sha512 => HashAlgorithmName.SHA512,
            _ => null,
        };
        if (name is not { } algorithm)
        {
            return null;
        }

        var data = new byte[salt.Length + passphrase.Length];
        salt.CopyTo(data);
        passphrase.CopyTo(data.AsSpan(salt.Length));
        var count = Math.Max(DecodeCount(codedCount), data.Length);

        // Whole copies of salt || passphrase, so every chunk hashed is a prefix of this block.
        var block = new byte[Math.Max(1, 65536 / Math.Max(data.Length, 1)) * data.Length];
        for (var offset = 0; offset < block.Length; offset += data.Length)
        {
            data.CopyTo(block, offset);
        }

        var key = new byte[keyLength];
        var zeros = new byte[keyLength];
        try
        {
            var filled = 0;
            for (var context = 0; filled < keyLength; context++)
            {
                using var digest = IncrementalHash.CreateHash(algorithm);
                digest.AppendData(zeros, 0, context); // context i is preloaded with i zero octets
                for (var left = count; left > 0;)
                {
                    var n = (int)Math.Min(left, block.Length);
                    digest.AppendData(block, 0, n);
                    left -= n;
                }

                var output = digest.GetHashAndReset();
                var take = Math.Min(output.Length, keyLength - filled);
                output.AsSpan(0, take).CopyTo(key.AsSpan(filled));
                filled += take;
                CryptographicOperations.ZeroMemory(output);
            }

            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
            CryptographicOperations.ZeroMemory(block);
        }
    }

    /// <summary>Octets hashed for a coded count: (16 + (c &amp; 15)) &lt;&lt; ((c &gt;&gt; 4) + 6).</summary>
    public static long DecodeCount(byte codedCount) => (16L + (codedCount & 15)) << ((codedCount >> 4) + 6);
}

using BtrfsSend.Core.Crypto;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace BtrfsSend.Core.Tests.Crypto;

public sealed class IteratedS2kTests
{
    private static byte[] BouncyCastle(byte[] passphrase, HashAlgorithmTag hash, byte[] salt, byte coded, int keyLength)
    {
        var algorithm = keyLength switch
        {
            16 => SymmetricKeyAlgorithmTag.Aes128,
            24 => SymmetricKeyAlgorithmTag.Aes192,
            _ => SymmetricKeyAlgorithmTag.Aes256,
        };
        return PgpUtilities.MakeKeyFromPassPhraseRaw(algorithm, new S2k(hash, salt, coded), passphrase).GetKey();
    }

    [Property(MaxTest = 150)]
    public Property The_key_is_byte_for_byte_the_one_BouncyCastle_derives() =>
        Prop.ForAll(
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).ToArbitrary(),
            (from coded in Gen.Choose(0, 0x5F)
             from hash in Gen.Elements(HashAlgorithmTag.Sha1, HashAlgorithmTag.Sha256, HashAlgorithmTag.Sha384, HashAlgorithmTag.Sha512)
             from keyLength in Gen.Elements(16, 24, 32)
             from seed in Gen.Choose(0, int.MaxValue)
             select (Coded: (byte)coded, Hash: hash, KeyLength: keyLength, Seed: seed)).ToArbitrary(),
            (passphrase, p) =>
            {
                var salt = new byte[8];
                new Random(p.Seed).NextBytes(salt);
                var ours = IteratedS2k.TryDerive(passphrase, p.Hash, salt, p.Coded, p.KeyLength);
                return ours is not null && ours.AsSpan().SequenceEqual(BouncyCastle(passphrase, p.Hash, salt, p.Coded, p.KeyLength));
            });

    [Fact]
    public void The_count_we_write_matches_BouncyCastle_for_an_AES_256_key_from_SHA_1_which_needs_two_hash_contexts()
    {
        var passphrase = "correct horse battery staple"u8.ToArray();
        byte[] salt = [1, 2, 3, 4, 5, 6, 7, 8];

        Assert.Equal(BouncyCastle(passphrase, HashAlgorithmTag.Sha1, salt, 0x60, 32), IteratedS2k.TryDerive(passphrase, HashAlgorithmTag.Sha1, salt, 0x60, 32));
        Assert.Equal(
            BouncyCastle(passphrase, HashAlgorithmTag.Sha256, salt, SessionKeys.DefaultS2kCount, 32),
            IteratedS2k.TryDerive(passphrase, HashAlgorithmTag.Sha256, salt, SessionKeys.DefaultS2kCount, 32));
    }

    [Theory]
    [InlineData(0x00, 1024L)]
    [InlineData(0x60, 65536L)]
    [InlineData(0xFF, 65011712L)]
    public void Coded_counts_decode_as_RFC_4880_says(byte coded, long octets)
    {
        Assert.Equal(octets, IteratedS2k.DecodeCount(coded));
    }

    [Fact]
    public void A_hash_outside_the_fast_path_is_left_to_BouncyCastle()
    {
        Assert.Null(IteratedS2k.TryDerive("x"u8, HashAlgorithmTag.RipeMD160, new byte[8], 0x60, 32));
    }
}

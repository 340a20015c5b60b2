using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// The producer's signing key: an OpenPGP v4 Ed25519 key (algorithm 22, EdDSA, which gpg 2.2
/// verifies), unprotected, in a file only root reads. Made by <see cref="Generate"/>
/// (<c>btrfs-send-backup keygen</c>); its public half is <see cref="VerifyKey"/>.
/// </summary>
public sealed class SigningKey
{
    private readonly Ed25519PrivateKeyParameters _privateKey;

    private SigningKey(Ed25519PrivateKeyParameters privateKey, byte[] fingerprint, long keyId)
    {
        _privateKey = privateKey;
        Fingerprint = fingerprint;
        KeyId = keyId;
    }

    /// <summary>The v4 fingerprint (20 bytes).</summary>
    public byte[] Fingerprint { get; }

    public long KeyId { get; }

    /// <summary>The fingerprint as gpg prints it: 40 uppercase hex digits.</summary>
    public string FingerprintHex => Convert.ToHexString(Fingerprint);

    /// <summary>Reads an armored or binary secret key file holding one unprotected Ed25519 signing key.</summary>
    public static SigningKey FromFile(string filePath)
    {
        var bundle = OpenPgpKeyFile.ReadSecretKeys(filePath, "signing key file", "an OpenPGP secret key");

        foreach (PgpSecretKeyRing ring in bundle.GetKeyRings())
        {
            foreach (var secret in ring.GetSecretKeys())
            {
                if (secret.IsSigningKey && !secret.IsPrivateKeyEmpty && secret.PublicKey.Algorithm == PublicKeyAlgorithmTag.EdDsa_Legacy)
                {
                    PgpPrivateKey key;
                    try
                    {
                        key = secret.ExtractPrivateKeyRaw([]);
                    }
                    catch (PgpException ex)
                    {
                        throw new ConfigException($"signing key file '{NameText.Printable(filePath)}': the key is passphrase-protected; make one with 'btrfs-send-backup keygen'", ex);
                    }

                    if (key.Key is Ed25519PrivateKeyParameters ed)
                    {
                        return new SigningKey(ed, secret.PublicKey.GetFingerprint(), secret.KeyId);
                    }
                }
            }
        }

        throw new ConfigException($"signing key file '{NameText.Printable(filePath)}' holds no Ed25519 signing key; make one with 'btrfs-send-backup keygen'");
    }

    /// <summary>
    /// A new key for <paramref name="userId"/>: the armored secret key (keep it 0600) and the
    /// armored public key (give it to whoever restores).
    /// </summary>
    public static (string SecretArmored, string PublicArmored, string FingerprintHex) Generate(string userId, DateTime nowUtc)
    {
        var random = new SecureRandom();
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(random));
        var pair = new PgpKeyPair(PublicKeyAlgorithmTag.EdDsa_Legacy, generator.GenerateKeyPair(), nowUtc);
        var hashed = new PgpSignatureSubpacketGenerator();
        hashed.SetKeyFlags(false, PgpKeyFlags.CanSign);
        hashed.SetPreferredHashAlgorithms(false, [(int)HashAlgorithmTag.Sha256, (int)HashAlgorithmTag.Sha512]);
        var rings = new PgpKeyRingGenerator(
            PgpSignature.PositiveCertification, pair, userId, SymmetricKeyAlgorithmTag.Null, HashAlgorithmTag.Sha256,
            (char[]?)null, false, hashed.Generate(), null, random);
        return (Armor(rings.GenerateSecretKeyRing().GetEncoded()), Armor(rings.GeneratePublicKeyRing().GetEncoded()), Convert.ToHexString(pair.PublicKey.GetFingerprint()));
    }

    /// <summary>The Ed25519 signature (R then S, 32 bytes each) of a signature hash, as OpenPGP EdDSA signs it.</summary>
    internal byte[] SignDigest(byte[] digest)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, _privateKey);
        signer.BlockUpdate(digest, 0, digest.Length);
        return signer.GenerateSignature();
    }

    private static string Armor(byte[] encoded)
    {
        using var buffer = new MemoryStream();
        using (var armored = new ArmoredOutputStream(buffer))
        {
            armored.Write(encoded);
        }

        return System.Text.Encoding.ASCII.GetString(buffer.ToArray());
    }
}

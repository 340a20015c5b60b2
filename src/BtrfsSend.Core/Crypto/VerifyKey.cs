using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace BtrfsSend.Core.Crypto;

/// <summary>The public half of a <see cref="SigningKey"/>: what restore, verify and the drill check stream signatures with.</summary>
public sealed class VerifyKey
{
    private readonly Ed25519PublicKeyParameters _publicKey;

    private VerifyKey(Ed25519PublicKeyParameters publicKey, byte[] fingerprint, long keyId)
    {
        _publicKey = publicKey;
        Fingerprint = fingerprint;
        KeyId = keyId;
    }

    /// <summary>The v4 fingerprint (20 bytes).</summary>
    public byte[] Fingerprint { get; }

    public long KeyId { get; }

    public string FingerprintHex => Convert.ToHexString(Fingerprint);

    /// <summary>Reads an armored or binary public key file holding one Ed25519 signing key (keygen's <c>.pub</c> file).</summary>
    public static VerifyKey FromFile(string filePath)
    {
        var bundle = OpenPgpKeyFile.ReadPublicKeys(filePath, "verify key file", "an OpenPGP public key");

        foreach (PgpPublicKeyRing ring in bundle.GetKeyRings())
        {
            foreach (PgpPublicKey key in ring.GetPublicKeys())
            {
                if (key.Algorithm == PublicKeyAlgorithmTag.EdDsa_Legacy && key.GetKey() is Ed25519PublicKeyParameters ed)
                {
                    return new VerifyKey(ed, key.GetFingerprint(), key.KeyId);
                }
            }
        }

        throw new ConfigException($"verify key file '{NameText.Printable(filePath)}' holds no Ed25519 public key; it is the .pub file 'btrfs-send-backup keygen' wrote");
    }

    /// <summary>True when <paramref name="signature"/> (R then S) is this key's Ed25519 signature of <paramref name="digest"/>.</summary>
    internal bool Verifies(byte[] digest, byte[] signature)
    {
        var verifier = new Ed25519Signer();
        verifier.Init(false, _publicKey);
        verifier.BlockUpdate(digest, 0, digest.Length);
        return verifier.VerifySignature(signature);
    }
}

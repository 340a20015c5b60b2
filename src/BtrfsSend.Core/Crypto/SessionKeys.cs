using System.Security.Cryptography;
using Org.BouncyCastle.Bcpg;
using Org.BouncyCastle.Bcpg.OpenPgp;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Agreement;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Session keys: S2K derivation, public-key session packets for encryption, and their
/// decryption. The primitives (S2K, RSA PKCS#1, X25519, AES key wrap) are BouncyCastle's, except the
/// iterated+salted S2K, which runs on .NET's hashes (<see cref="IteratedS2k"/>).
/// </summary>
internal static class SessionKeys
{
    /// <summary>Cipher of every stream we write (gpg 2.2 reads it by default).</summary>
    public const int Aes256 = 9;

    /// <summary>
    /// The coded S2K count we write: 0xFF = 65,011,712 bytes hashed, the top of RFC 4880's range and
    /// the magnitude gpg 2.2's agent calibrates to (~100 ms).
    /// </summary>
    public const byte DefaultS2kCount = 0xFF;

    public static int KeyLength(int symmetricAlgorithm) => symmetricAlgorithm switch
    {
        7 => 16,
        8 => 24,
        9 => 32,
        _ => throw new OpenPgpException(OpenPgpFailure.Unsupported, $"cipher algorithm {symmetricAlgorithm}; only AES-128/192/256 are read"),
    };

    /// <summary>A v4 symmetric-key session packet (iterated+salted S2K, SHA-256, AES-256, no ESK) and its key.</summary>
    public static (byte[] Packet, byte[] SessionKey) CreateForPassphrase(byte[] passphrase, byte s2kCount)
    {
        var salt = RandomNumberGenerator.GetBytes(8);
        var key = IteratedS2k.TryDerive(passphrase, HashAlgorithmTag.Sha256, salt, s2kCount, KeyLength(Aes256))
            ?? Derive(passphrase, Aes256, new S2k(HashAlgorithmTag.Sha256, salt, s2kCount));
        byte[] body = [4, Aes256, 3, (byte)HashAlgorithmTag.Sha256, .. salt, s2kCount];
        return ([0xC0 | PacketHeader.SymmetricKeySession, (byte)body.Length, .. body], key);
    }

    /// <summary>
    /// Public-key session packets for every recipient and the random AES-256 session key. BouncyCastle
    /// builds the packets but never hands out the session key, so a throwaway passphrase method is
    /// added: its session packet carries the key encrypted under a passphrase we know, we decrypt it
    /// and drop that packet. Only the public-key packets are written.
    /// </summary>
    public static (byte[] Packets, byte[] SessionKey) CreateForRecipients(IReadOnlyList<PgpPublicKey> recipients)
    {
        var generator = new PgpEncryptedDataGenerator(SymmetricKeyAlgorithmTag.Aes256, true, new SecureRandom());
        foreach (var recipient in recipients)
        {
            generator.AddMethod(recipient);
        }

        var probe = RandomNumberGenerator.GetBytes(32);
        generator.AddMethodRaw(probe, HashAlgorithmTag.Sha256);
        using var buffer = new MemoryStream();
        using (generator.Open(buffer, new byte[1 << 9]))
        {
        }

        buffer.Position = 0;
        using var packets = new MemoryStream();
        byte[]? sessionKey = null;
        while (PacketFormat.TryReadHeader(buffer, OpenPgpFailure.Malformed, OpenPgpFailure.Truncated) is { } header
            && header.Tag != PacketHeader.IntegrityProtectedData)
        {
            var body = PacketFormat.ReadSmallBody(buffer, header, 1 << 16, "session key packet");
            if (header.Tag == PacketHeader.PublicKeySession)
            {
                packets.WriteByte(0xC0 | PacketHeader.PublicKeySession);
                packets.Write(PacketFormat.EncodeLength(body.Length));
                packets.Write(body);
            }
            else if (header.Tag == PacketHeader.SymmetricKeySession)
            {
                var (algorithm, key) = DecryptSymmetricSession(body, probe);
                sessionKey = algorithm == Aes256 ? key : null;
            }
        }

        return sessionKey is null || packets.Length == 0
            ? throw new InvalidOperationException("BouncyCastle did not produce the expected session key packets")
            : (packets.ToArray(), sessionKey);
    }

    /// <summary>Parses a v4 symmetric-key session packet body and returns the (algorithm, key) it yields for the passphrase.</summary>
    public static (int Algorithm, byte[] Key) DecryptSymmetricSession(byte[] body, byte[] passphrase)
    {
        if (body.Length < 4 || body[0] != 4)
        {
            throw new OpenPgpException(OpenPgpFailure.Unsupported, $"symmetric-key session packet version {(body.Length > 0 ? body[0] : -1)}; gpg 2.2 writes version 4");
        }

        var algorithm = body[1];
        var keyLength = KeyLength(algorithm);
        var hash = (HashAlgorithmTag)body[3];
        S2k s2k;
        int end;
        switch (body[2])
        {
            case 0:
                s2k = new S2k(hash);
                end = 4;
                break;
            case 1 when body.Length >= 12:
                s2k = new S2k(hash, body[4..12]);
                end = 12;
                break;
            case 3 when body.Length >= 13:
                s2k = new S2k(hash, body[4..12], body[12]);
                end = 13;
                break;
            default:
                throw new OpenPgpException(OpenPgpFailure.Unsupported, $"S2K specifier {body[2]} in the session key packet");
        }

        var key = (body[2] == 3 ? IteratedS2k.TryDerive(passphrase, hash, body.AsSpan(4, 8), body[12], keyLength) : null)
            ?? Derive(passphrase, algorithm, s2k);
        if (end == body.Length)
        {
            return (algorithm, key);
        }

        // An encrypted session key: CFB with a zero IV under the passphrase key; first byte is the algorithm.
        var esk = body[end..];
        new AesCfb(key).Decrypt(esk, esk);
        var sessionAlgorithm = esk[0];
        var sessionKey = esk[1..];
        if (sessionAlgorithm is not (7 or 8 or 9) || sessionKey.Length != KeyLength(sessionAlgorithm))
        {
            throw new OpenPgpException(OpenPgpFailure.WrongPassphrase, "the passphrase does not decrypt the session key");
        }

        return (sessionAlgorithm, sessionKey);
    }

    /// <summary>Decrypts a v3 public-key session packet body with <paramref name="key"/>: (algorithm, session key).</summary>
    public static (int Algorithm, byte[] Key) DecryptPublicKeySession(byte[] body, PgpPrivateKey key)
    {
        var algorithm = body[9];
        var offset = 10;
        byte[] message;
        try
        {
            if (algorithm is 1 or 2)
            {
                var encrypted = ReadMpi(body, ref offset);
                var rsa = new Pkcs1Encoding(new RsaBlindedEngine());
                rsa.Init(false, key.Key);
                message = rsa.ProcessBlock(encrypted, 0, encrypted.Length);
            }
            else if (algorithm == 18)
            {
                message = DecryptEcdh(body, offset, key);
            }
            else
            {
                throw new OpenPgpException(OpenPgpFailure.Unsupported, $"public-key algorithm {algorithm} in the session key packet; RSA and ECDH (curve25519) are read");
            }
        }
        catch (Exception ex) when (ex is Org.BouncyCastle.Crypto.InvalidCipherTextException or Org.BouncyCastle.Crypto.DataLengthException or IndexOutOfRangeException or ArgumentException)
        {
            throw new OpenPgpException(OpenPgpFailure.WrongKey, $"the session key for key {key.KeyId:X16} could not be decrypted (wrong key or damaged packet)", ex);
        }

        if (message.Length < 3)
        {
            throw new OpenPgpException(OpenPgpFailure.WrongKey, "the decrypted session key is too short");
        }

        var sessionAlgorithm = message[0];
        var sessionKey = message[1..^2];
        var checksum = (message[^2] << 8) | message[^1];
        var sum = 0;
        foreach (var b in sessionKey)
        {
            sum = (sum + b) & 0xffff;
        }

        if (sum != checksum || sessionAlgorithm is not (7 or 8 or 9) || sessionKey.Length != KeyLength(sessionAlgorithm))
        {
            throw new OpenPgpException(OpenPgpFailure.WrongKey, $"the session key for key {key.KeyId:X16} failed its checksum (wrong key or damaged packet)");
        }

        return (sessionAlgorithm, sessionKey);
    }

    private static byte[] Derive(byte[] passphrase, int algorithm, S2k s2k)
    {
        try
        {
            return PgpUtilities.MakeKeyFromPassPhraseRaw((SymmetricKeyAlgorithmTag)algorithm, s2k, passphrase).GetKey();
        }
        catch (PgpException ex)
        {
            throw new OpenPgpException(OpenPgpFailure.Unsupported, $"S2K with hash algorithm {(int)s2k.HashAlgorithm}", ex);
        }
    }

    /// <summary>RFC 6637 ECDH with X25519: shared secret, KDF, AES key unwrap, PKCS#5 unpadding.</summary>
    private static byte[] DecryptEcdh(byte[] body, int offset, PgpPrivateKey key)
    {
        var ephemeral = ReadMpi(body, ref offset);
        var wrappedLength = body[offset++];
        var wrapped = body.AsSpan(offset, wrappedLength).ToArray();
        var publicKey = (ECDHPublicBcpgKey)key.PublicKeyPacket.Key;
        if (ephemeral.Length != 33 || ephemeral[0] != 0x40 || key.Key is not X25519PrivateKeyParameters privateKey)
        {
            throw new OpenPgpException(OpenPgpFailure.Unsupported, "ECDH session keys are read for curve25519 keys only");
        }

        var shared = new byte[32];
        var agreement = new X25519Agreement();
        agreement.Init(privateKey);
        agreement.CalculateAgreement(new X25519PublicKeyParameters(ephemeral, 1), shared, 0);

        var oid = publicKey.CurveOid.GetEncoded()[1..];
        var fingerprint = PgpPublicKey.CalculateFingerprint(key.PublicKeyPacket);
        byte[] kdfParameters =
        [
            .. oid, 18, 3, 1, (byte)publicKey.HashAlgorithm, (byte)publicKey.SymmetricKeyAlgorithm,
            .. "Anonymous Sender    "u8, .. fingerprint,
        ];
        var kekLength = KeyLength((int)publicKey.SymmetricKeyAlgorithm);
        byte[] hashInput = [0, 0, 0, 1, .. shared, .. kdfParameters];
        var digest = publicKey.HashAlgorithm switch
        {
            HashAlgorithmTag.Sha256 => SHA256.HashData(hashInput),
            HashAlgorithmTag.Sha384 => SHA384.HashData(hashInput),
            HashAlgorithmTag.Sha512 => SHA512.HashData(hashInput),
            _ => throw new OpenPgpException(OpenPgpFailure.Unsupported, $"ECDH KDF hash {publicKey.HashAlgorithm}"),
        };
        var unwrap = new Rfc3394WrapEngine(AesUtilities.CreateEngine());
        unwrap.Init(false, new KeyParameter(digest, 0, kekLength));
        var padded = unwrap.Unwrap(wrapped, 0, wrapped.Length);
        var pad = padded[^1];
        if (pad == 0 || pad > padded.Length)
        {
            throw new OpenPgpException(OpenPgpFailure.WrongKey, "the ECDH session key has invalid padding");
        }

        return padded[..^pad];
    }

    private static byte[] ReadMpi(byte[] body, ref int offset)
    {
        var bits = (body[offset] << 8) | body[offset + 1];
        var length = (bits + 7) / 8;
        var value = body.AsSpan(offset + 2, length).ToArray();
        offset += 2 + length;
        return value;
    }
}

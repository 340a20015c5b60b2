using System.Globalization;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace BtrfsSend.Core.Crypto;

/// <summary>Opens an OpenPGP encrypted stream (ours or stock gpg 2.2's) for reading.</summary>
public static class OpenPgpDecryption
{
    /// <summary>
    /// Reads the session key packets and the start of the encrypted data from <paramref name="input"/>,
    /// checks the session key (a wrong passphrase or key fails here, before any plaintext), and returns
    /// the plaintext stream. Throws <see cref="OpenPgpException"/>. Does not own <paramref name="input"/>.
    /// </summary>
    public static OpenPgpDecryptingStream Open(Stream input, DecryptionKeys keys)
    {
        // Packet headers are read byte by byte and gpg's partial chunks are 8 KiB: read ahead.
        input = new BufferedStream(input, 1 << 18);
        var symmetric = new List<byte[]>();
        var publicKey = new List<byte[]>();
        PacketHeader data;
        var isEmpty = true;
        while (true)
        {
            var next = PacketFormat.TryReadHeader(input, OpenPgpFailure.Malformed, OpenPgpFailure.Truncated);
            if (next is not { } header)
            {
                throw isEmpty
                    ? new OpenPgpException(OpenPgpFailure.Truncated, "the input is empty")
                    : new OpenPgpException(OpenPgpFailure.Truncated, "the input ends before the encrypted data packet");
            }

            isEmpty = false;
            switch (header.Tag)
            {
                case PacketHeader.Marker:
                    PacketFormat.ReadSmallBody(input, header, 64, "marker packet");
                    continue;
                case PacketHeader.SymmetricKeySession:
                    symmetric.Add(PacketFormat.ReadSmallBody(input, header, 1024, "symmetric-key session packet"));
                    continue;
                case PacketHeader.PublicKeySession:
                    publicKey.Add(PacketFormat.ReadSmallBody(input, header, 8192, "public-key session packet"));
                    continue;
                case PacketHeader.IntegrityProtectedData:
                    data = header;
                    break;
                case PacketHeader.AeadData:
                    throw new OpenPgpException(OpenPgpFailure.Unsupported, "AEAD (OCB/EAX) encrypted data; only the MDC-protected format gpg 2.2 writes is read");
                case PacketHeader.SymmetricData:
                    throw new OpenPgpException(OpenPgpFailure.Unsupported, "encrypted data without integrity protection (no MDC) is refused");
                default:
                    throw new OpenPgpException(OpenPgpFailure.Malformed, string.Create(CultureInfo.InvariantCulture, $"unexpected packet type {header.Tag} before the encrypted data"));
            }

            break;
        }

        var candidates = SessionCandidates(keys, symmetric, publicKey);
        var body = new PacketBodyStream(input, data, OpenPgpFailure.Truncated, "the encrypted data packet");
        var version = body.ReadByte();
        if (version < 0)
        {
            throw new OpenPgpException(OpenPgpFailure.Truncated, "the encrypted data packet ends before its version");
        }

        if (version != 1)
        {
            throw new OpenPgpException(OpenPgpFailure.Unsupported, string.Create(CultureInfo.InvariantCulture, $"integrity-protected data version {version}; gpg 2.2 writes version 1"));
        }

        var encryptedPrefix = new byte[18];
        PacketFormat.ReadExactly(body, encryptedPrefix, OpenPgpFailure.Truncated, "the encrypted data prefix");
        var prefix = new byte[18];
        foreach (var (algorithm, key) in candidates)
        {
            var cfb = new AesCfb(key);
            cfb.Decrypt(encryptedPrefix, prefix);
            if (prefix[14] == prefix[16] && prefix[15] == prefix[17])
            {
                var hash = new BackgroundSha1(1 << 18);
                hash.Append(prefix);
                return new OpenPgpDecryptingStream(input, new MdcDecryptingReader(body, cfb, hash), keys.VerifyKey);
            }
        }

        throw keys.Passphrase is not null
            ? new OpenPgpException(OpenPgpFailure.WrongPassphrase, "the passphrase does not open this stream (session key check failed)")
            : new OpenPgpException(OpenPgpFailure.WrongKey, "the decrypted session key does not open this stream");
    }

    private static List<(int Algorithm, byte[] Key)> SessionCandidates(DecryptionKeys keys, List<byte[]> symmetric, List<byte[]> publicKey)
    {
        var result = new List<(int, byte[])>();
        if (keys.Passphrase is { } passphrase)
        {
            if (symmetric.Count == 0)
            {
                throw new OpenPgpException(OpenPgpFailure.WrongKey, $"the stream is encrypted to public key(s) {KeyIds(publicKey)}, not with a passphrase; restore with the secret key");
            }

            OpenPgpException? wrong = null;
            foreach (var packet in symmetric)
            {
                try
                {
                    result.Add(SessionKeys.DecryptSymmetricSession(packet, passphrase));
                }
                catch (OpenPgpException ex) when (ex.Failure == OpenPgpFailure.WrongPassphrase)
                {
                    wrong = ex;
                }
            }

            return result.Count > 0 ? result : throw wrong!;
        }

        if (publicKey.Count == 0)
        {
            throw new OpenPgpException(OpenPgpFailure.WrongKey, "the stream is encrypted with a passphrase, not to a public key; restore with the passphrase file");
        }

        OpenPgpException? failure = null;
        foreach (var packet in publicKey)
        {
            if (packet.Length < 12 || packet[0] != 3)
            {
                throw new OpenPgpException(OpenPgpFailure.Unsupported, "public-key session packet version is not 3");
            }

            var keyId = System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(packet.AsSpan(1, 8));
            foreach (var secretKey in keys.SecretKeys.Where(k => keyId == 0 || k.KeyId == keyId))
            {
                try
                {
                    result.Add(SessionKeys.DecryptPublicKeySession(packet, Extract(secretKey, keys.SecretKeyPassphrase)));
                }
                catch (OpenPgpException ex) when (ex.Failure == OpenPgpFailure.WrongKey)
                {
                    failure = ex;
                }
            }
        }

        if (result.Count > 0)
        {
            return result;
        }

        throw failure ?? new OpenPgpException(
            OpenPgpFailure.WrongKey,
            $"the stream is encrypted to key(s) {KeyIds(publicKey)}; the secret key file holds {string.Join(", ", keys.SecretKeys.Select(k => k.KeyId.ToString("X16", CultureInfo.InvariantCulture)))}");
    }

    private static PgpPrivateKey Extract(PgpSecretKey secretKey, byte[]? passphrase)
    {
        try
        {
            return secretKey.ExtractPrivateKeyRaw(passphrase ?? []);
        }
        catch (PgpException ex)
        {
            throw new OpenPgpException(
                OpenPgpFailure.WrongPassphrase,
                passphrase is null
                    ? $"secret key {secretKey.KeyId:X16} is protected; give its passphrase file"
                    : $"the passphrase does not unlock secret key {secretKey.KeyId:X16}",
                ex);
        }
    }

    private static string KeyIds(List<byte[]> publicKeyPackets) => publicKeyPackets.Count == 0
        ? "(none)"
        : string.Join(", ", publicKeyPackets.Where(p => p.Length >= 9).Select(p => Convert.ToHexString(p.AsSpan(1, 8))));
}

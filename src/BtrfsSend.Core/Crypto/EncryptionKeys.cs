using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace BtrfsSend.Core.Crypto;

/// <summary>What a stream is encrypted to: a passphrase (symmetric) or one or more public keys.</summary>
public sealed class EncryptionKeys
{
    private EncryptionKeys(byte[]? passphrase, IReadOnlyList<PgpPublicKey> recipients)
    {
        Passphrase = passphrase;
        Recipients = recipients;
    }

    /// <summary>The manifest's <c>encryption</c> value: <c>openpgp-symmetric</c> or <c>openpgp-pubkey</c>.</summary>
    public string ManifestEncryption => Passphrase is null ? "openpgp-pubkey" : "openpgp-symmetric";

    internal byte[]? Passphrase { get; }

    internal IReadOnlyList<PgpPublicKey> Recipients { get; }

    /// <summary>The producer's signing key: when set, every stream is signed (one-pass signature, literal, signature).</summary>
    public SigningKey? Signer { get; private init; }

    /// <summary>These keys, signing every stream with <paramref name="signer"/>.</summary>
    public EncryptionKeys WithSigner(SigningKey signer) => new(Passphrase, Recipients) { Signer = signer };

    /// <summary>The first line of the file, as <c>gpg --passphrase-file</c> reads it.</summary>
    public static EncryptionKeys FromPassphraseFile(string filePath) => new(PassphraseFile.ReadFirstLine(filePath), []);

    /// <summary>One recipient per file (armored or binary export); each file's newest valid encryption key is used.</summary>
    public static EncryptionKeys FromPublicKeyFile(string filePath, params string[] moreFilePaths)
    {
        var recipients = new List<PgpPublicKey>();
        foreach (var path in (string[])[filePath, .. moreFilePaths])
        {
            recipients.AddRange(LoadEncryptionKeys(path));
        }

        return new EncryptionKeys(null, recipients);
    }

    internal static EncryptionKeys FromPassphrase(byte[] passphrase) => new(passphrase, []);

    private static List<PgpPublicKey> LoadEncryptionKeys(string filePath)
    {
        var bundle = OpenPgpKeyFile.ReadPublicKeys(filePath, "public key file", "an OpenPGP public key (armored or binary)");

        var result = new List<PgpPublicKey>();
        var now = DateTime.UtcNow;
        foreach (PgpPublicKeyRing ring in bundle.GetKeyRings())
        {
            // gpg encrypts to the newest valid encryption-capable (sub)key; so do we.
            var key = ring.GetPublicKeys()
                .Where(k => k.IsEncryptionKey && !k.HasRevocation() && IsUnexpired(k, now))
                .OrderByDescending(k => k.CreationTime)
                .FirstOrDefault();
            if (key is not null)
            {
                result.Add(key);
            }
        }

        if (result.Count == 0)
        {
            throw new ConfigException($"public key file '{NameText.Printable(filePath)}' holds no valid (unrevoked, unexpired) encryption key");
        }

        return result;
    }

    private static bool IsUnexpired(PgpPublicKey key, DateTime now)
    {
        var seconds = key.GetValidSeconds();
        return seconds <= 0 || key.CreationTime.AddSeconds(seconds) > now;
    }
}

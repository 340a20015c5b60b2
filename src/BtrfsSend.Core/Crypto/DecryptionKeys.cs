using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace BtrfsSend.Core.Crypto;

/// <summary>What opens a stream: a passphrase, or the secret keys of a key file (restore key).</summary>
public sealed class DecryptionKeys
{
    private DecryptionKeys(byte[]? passphrase, IReadOnlyList<PgpSecretKey> secretKeys, byte[]? secretKeyPassphrase)
    {
        Passphrase = passphrase;
        SecretKeys = secretKeys;
        SecretKeyPassphrase = secretKeyPassphrase;
    }

    internal byte[]? Passphrase { get; }

    internal IReadOnlyList<PgpSecretKey> SecretKeys { get; }

    internal byte[]? SecretKeyPassphrase { get; }

    /// <summary>
    /// The producer's verify key: a signed stream must be signed by it (another key's signature is
    /// refused). Whether a stream must be signed at all is the caller's decision (<see cref="OpenPgpDecryptingStream.IsSigned"/>).
    /// </summary>
    public VerifyKey? VerifyKey { get; private init; }

    /// <summary>These keys, checking signatures with <paramref name="verifyKey"/>.</summary>
    public DecryptionKeys WithVerifyKey(VerifyKey verifyKey) => new(Passphrase, SecretKeys, SecretKeyPassphrase) { VerifyKey = verifyKey };

    /// <summary>The first line of the file, as <c>gpg --passphrase-file</c> reads it.</summary>
    public static DecryptionKeys FromPassphraseFile(string filePath) => new(PassphraseFile.ReadFirstLine(filePath), [], null);

    /// <summary>
    /// Secret keys from an armored or binary <c>gpg --export-secret-keys</c> file; if they are
    /// protected, <paramref name="passphraseFilePath"/> holds their passphrase (first line).
    /// </summary>
    public static DecryptionKeys FromSecretKeyFile(string filePath, string? passphraseFilePath = null)
    {
        var bundle = OpenPgpKeyFile.ReadSecretKeys(filePath, "secret key file", "an OpenPGP secret key export");

        var keys = new List<PgpSecretKey>();
        foreach (PgpSecretKeyRing ring in bundle.GetKeyRings())
        {
            keys.AddRange(ring.GetSecretKeys().Where(k => !k.IsPrivateKeyEmpty && k.PublicKey.IsEncryptionKey));
        }

        if (keys.Count == 0)
        {
            throw new ConfigException($"secret key file '{NameText.Printable(filePath)}' holds no secret encryption key");
        }

        var passphrase = passphraseFilePath is null ? null : PassphraseFile.ReadFirstLine(passphraseFilePath);
        return new DecryptionKeys(null, keys, passphrase);
    }

    internal static DecryptionKeys FromPassphrase(byte[] passphrase) => new(passphrase, [], null);

    internal static DecryptionKeys FromSecretKeys(IReadOnlyList<PgpSecretKey> secretKeys, byte[]? passphrase = null) => new(null, secretKeys, passphrase);
}

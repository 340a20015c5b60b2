using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// What opens the streams: a passphrase file, or a secret key export (with the passphrase file
/// of that key when it is protected). Also renders the matching plain gpg command.
/// </summary>
internal sealed record KeyFiles(string? PassphraseFilePath, string? SecretKeyFilePath, string? SecretKeyPassphraseFilePath)
{
    /// <summary>The public half of the producer's signing key (VERIFY_KEY_FILE, --verify-key): public-key mode only.</summary>
    public string? VerifyKeyFilePath { get; init; }

    /// <summary>--allow-unbound: accept streams made before streams were bound (no binding; unsigned in public-key mode).</summary>
    public bool AllowUnbound { get; init; }

    /// <summary>Public-key mode without --allow-unbound: every stream must carry the verify key's signature.</summary>
    public bool RequiresSignature => SecretKeyFilePath is not null && !AllowUnbound;

    public LinkChecks ChecksFor(BackupSet set, string? expectedParentUuid = null) => new(set, AllowUnbound, RequiresSignature, expectedParentUuid);

    public DecryptionKeys Load()
    {
        if (SecretKeyFilePath is not null)
        {
            var keys = DecryptionKeys.FromSecretKeyFile(SecretKeyFilePath, SecretKeyPassphraseFilePath);
            if (VerifyKeyFilePath is not null)
            {
                return keys.WithVerifyKey(VerifyKey.FromFile(VerifyKeyFilePath));
            }

            return AllowUnbound
                ? keys
                : throw new ConfigException("streams encrypted to a public key are authenticated by the producer's signature: give --verify-key FILE (the .pub half of SIGNING_KEY_FILE, made by keygen) or VERIFY_KEY_FILE in --config; --allow-unbound reads them without checking it");
        }

        if (PassphraseFilePath is null)
        {
            throw new ConfigException("no passphrase file: give --passphrase-file F (or --key-file F for streams encrypted to a public key), or a --config whose PASSPHRASE_FILE is set");
        }

        return DecryptionKeys.FromPassphraseFile(PassphraseFilePath);
    }

    /// <summary>Shell lines to run once before the per-link commands (importing the secret key).</summary>
    public IReadOnlyList<string> ByHandSetup() => SecretKeyFilePath is null
        ? []
        : [Argv.Render(["gpg", "--batch", "--import", SecretKeyFilePath, .. VerifyKeyFilePath is null ? Array.Empty<string>() : [VerifyKeyFilePath]])];

    /// <summary>The stock gpg command that decrypts <paramref name="filePath"/> to stdout.</summary>
    public string ByHandDecrypt(string filePath)
    {
        var argv = new List<string> { "gpg", "--batch", "--pinentry-mode", "loopback" };
        var passphrase = SecretKeyFilePath is null ? PassphraseFilePath : SecretKeyPassphraseFilePath;
        if (passphrase is not null)
        {
            argv.AddRange(["--passphrase-file", passphrase]);
        }

        argv.AddRange(["--decrypt", filePath]);
        return Argv.Render(argv);
    }
}

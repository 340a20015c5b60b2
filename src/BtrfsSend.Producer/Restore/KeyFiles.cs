using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// What opens the streams: a passphrase file, or a secret key export (with the passphrase file
/// of that key when it is protected). Also renders the matching plain gpg command.
/// </summary>
internal sealed record KeyFiles(string? PassphraseFilePath, string? SecretKeyFilePath, string? SecretKeyPassphraseFilePath)
{
    public DecryptionKeys Load()
    {
        if (SecretKeyFilePath is not null)
        {
            return DecryptionKeys.FromSecretKeyFile(SecretKeyFilePath, SecretKeyPassphraseFilePath);
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
        : [Argv.Render(["gpg", "--batch", "--import", SecretKeyFilePath])];

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

using System.Text;

namespace BtrfsSend.TestSupport;

/// <summary>
/// A private GNUPGHOME with a passphrase file (0600) and, on request, a generated key pair
/// without passphrase whose public key is exported (armored and binary). Kills its gpg-agent
/// and removes everything on dispose.
/// </summary>
public sealed class GpgFixture : IDisposable
{
    private readonly TempDir _dir = new("gpg");

    public GpgFixture(string passphrase = "correct horse battery staple ünïcödé")
    {
        Prerequisites.Require(needsRoot: false, "gpg", "gpgconf");
        HomeDirPath = _dir.Sub("gnupg");
        Directory.CreateDirectory(HomeDirPath);
        File.SetUnixFileMode(HomeDirPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Passphrase = passphrase;
        PassphraseFilePath = _dir.Sub("passphrase");
        File.WriteAllText(PassphraseFilePath, passphrase + "\n", new UTF8Encoding(false));
        File.SetUnixFileMode(PassphraseFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public string HomeDirPath { get; }

    public string Passphrase { get; }

    /// <summary>The passphrase and a trailing newline, as <c>openssl rand -base64 48 &gt; file</c> writes it.</summary>
    public string PassphraseFilePath { get; }

    public string DirPath => _dir.DirPath;

    /// <summary>Set by <see cref="GenerateKeyPairAsync"/>.</summary>
    public string? Fingerprint { get; private set; }

    public string? PublicKeyArmoredFilePath { get; private set; }

    public string? PublicKeyBinaryFilePath { get; private set; }

    public string? SecretKeyArmoredFilePath { get; private set; }

    /// <summary>gpg argv with this home, batch mode and loopback pinentry, then <paramref name="args"/>.</summary>
    public string[] Gpg(params string[] args) =>
        ["gpg", "--homedir", HomeDirPath, "--batch", "--quiet", "--no-tty", "--pinentry-mode", "loopback", "--no-symkey-cache", .. args];

    /// <summary>gpg argv for symmetric use with the passphrase file, then <paramref name="args"/>.</summary>
    public string[] GpgWithPassphrase(params string[] args) => Gpg(["--passphrase-file", PassphraseFilePath, .. args]);

    /// <summary>Generates a key pair (algo e.g. "rsa3072" or "ed25519" + cv25519 subkey) and exports the public key.</summary>
    public async Task<string> GenerateKeyPairAsync(string algorithm = "rsa3072", string userId = "btrfs-send test <test@example.invalid>")
    {
        if (algorithm == "ed25519")
        {
            await Run.OutAsync(Gpg("--passphrase", "", "--quick-gen-key", userId, "ed25519", "cert,sign", "never"));
        }
        else
        {
            await Run.OutAsync(Gpg("--passphrase", "", "--quick-gen-key", userId, algorithm, "cert,sign", "never"));
        }

        var listing = await Run.OutAsync(Gpg("--with-colons", "--list-keys", userId));
        Fingerprint = listing.Split('\n').First(l => l.StartsWith("fpr:", StringComparison.Ordinal)).Split(':')[9];
        await Run.OutAsync(Gpg("--passphrase", "", "--quick-add-key", Fingerprint, algorithm == "ed25519" ? "cv25519" : algorithm, "encr", "never"));

        PublicKeyArmoredFilePath = _dir.Sub("public.asc");
        PublicKeyBinaryFilePath = _dir.Sub("public.gpg");
        SecretKeyArmoredFilePath = _dir.Sub("secret.asc");
        await Run.OutAsync(Gpg("--armor", "--output", PublicKeyArmoredFilePath, "--export", Fingerprint));
        await Run.OutAsync(Gpg("--output", PublicKeyBinaryFilePath, "--export", Fingerprint));
        await Run.OutAsync(Gpg("--armor", "--output", SecretKeyArmoredFilePath, "--export-secret-keys", Fingerprint));
        File.SetUnixFileMode(SecretKeyArmoredFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return Fingerprint;
    }

    public void Dispose()
    {
        try
        {
            Run.TryAsync("gpgconf", "--homedir", HomeDirPath, "--kill", "gpg-agent").GetAwaiter().GetResult();
        }
        finally
        {
            _dir.Dispose();
        }
    }
}

using System.CommandLine;
using System.Text;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Commands;

/// <summary>
/// <c>keygen --signing-key FILE</c>: a new Ed25519 OpenPGP signing key for public-key mode, the
/// secret key in FILE (mode 0600, SIGNING_KEY_FILE on prod-srv) and the public half in FILE.pub
/// (VERIFY_KEY_FILE / <c>--verify-key</c>, kept with the restore key). Never overwrites.
/// </summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var signingKey = new Option<string>("--signing-key")
        {
            Description = "Where to write the new secret signing key (mode 0600); its public half goes to FILE.pub. Neither may exist",
            Required = true,
        };
        var command = new Command("keygen", "Create the producer's Ed25519 signing key for streams encrypted to a public key (RECIPIENT_KEY_FILE): FILE for SIGNING_KEY_FILE, FILE.pub for restore's VERIFY_KEY_FILE") { signingKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var secretPath = Path.GetFullPath(parse.GetValue(signingKey)!);
            var publicPath = secretPath + ".pub";
            foreach (var path in (string[])[secretPath, publicPath])
            {
                if (File.Exists(path) || Directory.Exists(path))
                {
                    throw new RefusedException("exists", $"'{NameText.Printable(path)}' exists; keygen never overwrites a key (move it away first)");
                }
            }

            var (secret, @public, fingerprint) = SigningKey.Generate($"btrfs-send-backup stream signing key ({Environment.MachineName})", DateTime.UtcNow);
            await WriteNewAsync(secretPath, secret, UnixFileMode.UserRead | UnixFileMode.UserWrite, cancellationToken);
            await WriteNewAsync(publicPath, @public, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, cancellationToken);
            await Console.Out.WriteLineAsync($"signing key {fingerprint} written to {secretPath} (0600; SIGNING_KEY_FILE on prod-srv) and {publicPath} (VERIFY_KEY_FILE / --verify-key for restore, kept with the restore key)");
            return 0;
        });
        return command;
    }

    private static async Task WriteNewAsync(string path, string text, UnixFileMode mode, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode });
            await file.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);
            file.Flush(flushToDisk: true);
        }
        catch (IOException ex)
        {
            throw new ConfigException($"cannot write '{NameText.Printable(path)}': {ex.Message}", ex);
        }
    }
}

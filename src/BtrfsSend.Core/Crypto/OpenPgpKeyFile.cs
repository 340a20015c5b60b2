using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using Org.BouncyCastle.Bcpg.OpenPgp;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Reads an armored or binary OpenPGP key file into its key rings. A file that cannot be opened or
/// is not OpenPGP is a <see cref="ConfigException"/>: "<c>FILE-WHAT 'PATH' cannot be read as AS-WHAT: why</c>".
/// Which key in the rings serves is the caller's choice.
/// </summary>
internal static class OpenPgpKeyFile
{
    public static PgpSecretKeyRingBundle ReadSecretKeys(string filePath, string fileWhat, string asWhat)
        => Read(filePath, fileWhat, asWhat, stream => new PgpSecretKeyRingBundle(stream));

    public static PgpPublicKeyRingBundle ReadPublicKeys(string filePath, string fileWhat, string asWhat)
        => Read(filePath, fileWhat, asWhat, stream => new PgpPublicKeyRingBundle(stream));

    private static T Read<T>(string filePath, string fileWhat, string asWhat, Func<Stream, T> parse)
    {
        try
        {
            using var file = File.OpenRead(filePath);
            return parse(PgpUtilities.GetDecoderStream(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PgpException)
        {
            throw new ConfigException($"{fileWhat} '{NameText.Printable(filePath)}' cannot be read as {asWhat}: {ex.Message}", ex);
        }
    }
}

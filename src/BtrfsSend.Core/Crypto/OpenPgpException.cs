using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Crypto;

/// <summary>
/// Decryption failed; nothing read from the stream may be trusted. Derives from
/// <see cref="BtrfsSendException"/> (IntegrityException is sealed) and maps to the same
/// <see cref="ExitCode.IntegrityFailed"/>.
/// </summary>
public sealed class OpenPgpException(OpenPgpFailure failure, string message, Exception? innerException = null)
    : BtrfsSendException(Prefix(failure) + message, innerException)
{
    public OpenPgpFailure Failure { get; } = failure;

    public override ExitCode ExitCode => ExitCode.IntegrityFailed;

    private static string Prefix(OpenPgpFailure failure) => failure switch
    {
        OpenPgpFailure.WrongPassphrase => "OpenPGP: wrong passphrase: ",
        OpenPgpFailure.WrongKey => "OpenPGP: wrong key: ",
        OpenPgpFailure.Tampered => "OpenPGP: data tampered or corrupt (integrity check failed): ",
        OpenPgpFailure.Truncated => "OpenPGP: stream truncated: ",
        OpenPgpFailure.Unsupported => "OpenPGP: unsupported: ",
        OpenPgpFailure.BadSignature => "OpenPGP: signature refused: ",
        _ => "OpenPGP: not a valid encrypted message: ",
    };
}

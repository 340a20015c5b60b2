namespace BtrfsSend.Core.Crypto;

/// <summary>Starts gpg-compatible OpenPGP encryption of a stream.</summary>
public static class OpenPgpEncryption
{
    /// <summary>Partial body chunks of 1 MiB: few headers, bounded memory.</summary>
    internal const int DefaultChunkShift = 20;

    /// <summary>
    /// Writes the session key packet(s) to <paramref name="output"/> and returns the stream to write
    /// plaintext to. Call <see cref="OpenPgpEncryptingStream.FinishAsync"/> to complete the message.
    /// </summary>
    public static Task<OpenPgpEncryptingStream> CreateAsync(Stream output, EncryptionKeys keys, CancellationToken cancellationToken = default)
        => CreateAsync(output, keys, "", SessionKeys.DefaultS2kCount, DefaultChunkShift, cancellationToken);

    /// <summary>
    /// As <see cref="CreateAsync(Stream, EncryptionKeys, CancellationToken)"/>, with
    /// <paramref name="binding"/> (ASCII, at most 255 bytes: a <see cref="Binding.StreamBinding"/>
    /// text) in the literal packet's file name field, and in the signature when
    /// <see cref="EncryptionKeys.Signer"/> is set.
    /// </summary>
    public static Task<OpenPgpEncryptingStream> CreateAsync(Stream output, EncryptionKeys keys, string binding, CancellationToken cancellationToken = default)
        => CreateAsync(output, keys, binding, SessionKeys.DefaultS2kCount, DefaultChunkShift, cancellationToken);

    /// <summary>Test hook: a cheap S2K count and small chunks make exhaustive tamper tests fast.</summary>
    internal static Task<OpenPgpEncryptingStream> CreateAsync(Stream output, EncryptionKeys keys, byte s2kCount, int chunkShift, CancellationToken cancellationToken = default)
        => CreateAsync(output, keys, "", s2kCount, chunkShift, cancellationToken);

    /// <param name="signedBinding">Test hook: a different binding for the signature's notation than the literal packet's (a forgery restore must refuse).</param>
    internal static async Task<OpenPgpEncryptingStream> CreateAsync(Stream output, EncryptionKeys keys, string binding, byte s2kCount, int chunkShift, CancellationToken cancellationToken = default, string? signedBinding = null)
    {
        if (binding.Length > Binding.StreamBinding.MaxLength || binding.Any(c => c > 0x7e))
        {
            throw new ArgumentException("the binding must be ASCII, at most 255 bytes", nameof(binding));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(chunkShift, 9);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkShift, 30);
        cancellationToken.ThrowIfCancellationRequested();

        // S2K hashes ~65 MB (about 0.1 s): off the caller's thread.
        var (packets, sessionKey) = await Task.Run(
            () => keys.Passphrase is { } passphrase
                ? SessionKeys.CreateForPassphrase(passphrase, s2kCount)
                : SessionKeys.CreateForRecipients(keys.Recipients),
            cancellationToken);
        return new OpenPgpEncryptingStream(output, packets, sessionKey, chunkShift, System.Text.Encoding.ASCII.GetBytes(binding), keys.Signer, signedBinding ?? binding);
    }
}

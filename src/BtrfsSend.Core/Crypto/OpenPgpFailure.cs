namespace BtrfsSend.Core.Crypto;

/// <summary>Why an OpenPGP stream could not be decrypted. Each has its own wording in the message.</summary>
public enum OpenPgpFailure
{
    /// <summary>The passphrase does not open the stream (session-key quick check failed).</summary>
    WrongPassphrase,

    /// <summary>The stream is not encrypted to any key we hold (or not to a key at all).</summary>
    WrongKey,

    /// <summary>The data was modified: MDC mismatch or damaged encrypted content.</summary>
    Tampered,

    /// <summary>The stream ended before the integrity check (EOF inside a packet or before the MDC).</summary>
    Truncated,

    /// <summary>Valid OpenPGP that this tool deliberately does not read (AEAD/OCB, no MDC, other ciphers).</summary>
    Unsupported,

    /// <summary>A signature is missing, malformed, from another key, or does not match the data and binding.</summary>
    BadSignature,

    /// <summary>Not an OpenPGP encrypted message (bad packet framing outside the encrypted part).</summary>
    Malformed,
}

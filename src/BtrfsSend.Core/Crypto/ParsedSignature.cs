namespace BtrfsSend.Core.Crypto;

/// <summary>A parsed signature packet: its hashed part (for the trailer), the digest's first two bytes, Ed25519 R||S, issuer fingerprint and binding notation.</summary>
internal sealed record ParsedSignature(byte[] HashedPart, byte[] Left16, byte[] Rs, byte[]? IssuerFingerprint, string? BindingNotation);

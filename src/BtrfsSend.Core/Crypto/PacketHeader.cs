namespace BtrfsSend.Core.Crypto;

/// <summary>An OpenPGP packet header: tag, and the length of the body (or of its first partial chunk).</summary>
internal readonly record struct PacketHeader(int Tag, BodyLengthKind Kind, long Length)
{
    public const int SymmetricKeySession = 3;
    public const int PublicKeySession = 1;
    public const int Signature = 2;
    public const int OnePassSignature = 4;
    public const int SymmetricData = 9;
    public const int Compressed = 8;
    public const int Marker = 10;
    public const int Literal = 11;
    public const int IntegrityProtectedData = 18;
    public const int Mdc = 19;
    public const int AeadData = 20;
}

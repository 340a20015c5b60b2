namespace BtrfsSend.Core.Crypto;

/// <summary>How an OpenPGP packet's body length is given (RFC 4880 4.2).</summary>
internal enum BodyLengthKind
{
    /// <summary>The whole body length is known.</summary>
    Fixed,

    /// <summary>This chunk's length is known; another length header follows it.</summary>
    Partial,

    /// <summary>Old format, length type 3: the body runs to the end of the enclosing data.</summary>
    Indeterminate,
}

namespace BtrfsSend.Core.Manifests;

/// <summary>How the send stream was compressed before encryption (manifest key <c>compression</c>, config COMPRESSION).</summary>
public enum StreamCompression
{
    /// <summary><c>none</c>: the default; send streams are often incompressible (docs/architecture.md).</summary>
    None,

    /// <summary><c>zstd</c>: zstd-compressed before encryption.</summary>
    Zstd,
}

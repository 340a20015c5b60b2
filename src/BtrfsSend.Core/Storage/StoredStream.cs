using BtrfsSend.Core.Manifests;

namespace BtrfsSend.Core.Storage;

/// <summary>A committed stream: its manifest and where its files are.</summary>
public sealed record StoredStream(Manifest Manifest, string ManifestFilePath, string StreamFilePath)
{
    /// <summary>
    /// The stream file's size when the set was read (from the directory listing), or null when not
    /// measured. <c>check</c> compares it with the manifest's <c>stream_bytes</c> without reading data.
    /// </summary>
    public long? StreamFileBytes { get; init; }

    /// <summary>True when the size was measured and differs from what the manifest recorded.</summary>
    public bool IsResized => StreamFileBytes is { } bytes && bytes != Manifest.StreamBytes;
}

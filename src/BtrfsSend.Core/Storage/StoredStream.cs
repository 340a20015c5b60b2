using BtrfsSend.Core.Manifests;

namespace BtrfsSend.Core.Storage;

/// <summary>A committed stream: its manifest and where its files are.</summary>
public sealed record StoredStream(Manifest Manifest, string ManifestFilePath, string StreamFilePath);

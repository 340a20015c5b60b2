using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Manifests;

/// <summary>
/// What a manifest written by the shell scripts (<c>backup-receive-btrfs-stream.sh</c>) says, as far
/// as <see cref="LegacyManifestReader"/> could read it: each value null when absent or unusable.
/// <see cref="Notes"/> says, one line each, what was ignored and why.
/// </summary>
public sealed record LegacyManifest
{
    public SnapshotName? Snapshot { get; init; }

    /// <summary>The key the snapshot was read from (<c>snapshot</c>, <c>name</c>, ...).</summary>
    public string? SnapshotKey { get; init; }

    public SnapshotName? Parent { get; init; }

    public string? ParentKey { get; init; }

    /// <summary>True when the manifest says explicitly that there is no parent (<c>parent=</c>, <c>parent=none</c>).</summary>
    public bool SaysNoParent { get; init; }

    public StreamKind? Kind { get; init; }

    public string? KindKey { get; init; }

    /// <summary>True when nothing could be read at all (too large, binary, not text): only the file name counts.</summary>
    public bool IsUnreadable { get; init; }

    public IReadOnlyList<string> Notes { get; init; } = [];
}

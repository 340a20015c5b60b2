namespace BtrfsSend.Core.Naming;

/// <summary>
/// The name of a committed file under <c>BACKUP_ROOT/&lt;set&gt;/</c> (docs/protocol.md):
/// <c>&lt;snapshot&gt;.full.btrfs.gpg</c>, <c>&lt;snapshot&gt;.incr.btrfs.gpg</c> or
/// <c>&lt;snapshot&gt;.manifest</c>. Anything else, including the receiver's temporary files
/// (which start with a dot), is not a stored file.
/// </summary>
/// <param name="Snapshot">The snapshot the file belongs to.</param>
/// <param name="Kind">The stream kind, or null for the manifest.</param>
public sealed record StoredFileName(SnapshotName Snapshot, StreamKind? Kind)
{
    public const string FullSuffix = ".full.btrfs.gpg";
    public const string IncrementalSuffix = ".incr.btrfs.gpg";
    public const string ManifestSuffix = ".manifest";

    /// <summary>
    /// Where <c>adopt</c> keeps the manifest the shell scripts wrote (which used our manifest's name):
    /// <c>&lt;snapshot&gt;.scripts-manifest</c>. No stored-name form matches it, so listings ignore it.
    /// </summary>
    public const string LegacyManifestSuffix = ".scripts-manifest";

    public bool IsManifest => Kind is null;

    /// <summary>The file name, e.g. <c>prod-srv-rootfs-20260101T020500Z.full.btrfs.gpg</c>.</summary>
    public string Value => Kind is { } kind ? StreamFileName(Snapshot, kind) : ManifestFileName(Snapshot);

    public override string ToString() => Value;

    public static string StreamFileName(SnapshotName snapshot, StreamKind kind)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Value + Suffix(kind);
    }

    public static string ManifestFileName(SnapshotName snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Value + ManifestSuffix;
    }

    public static string LegacyManifestFileName(SnapshotName snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Value + LegacyManifestSuffix;
    }

    /// <summary>The stored file <paramref name="fileName"/> names, or null if it is not exactly one of the three forms.</summary>
    public static StoredFileName? TryParse(string? fileName)
    {
        if (string.IsNullOrEmpty(fileName))
        {
            return null;
        }

        foreach (var (suffix, kind) in Forms)
        {
            if (fileName.EndsWith(suffix, StringComparison.Ordinal))
            {
                var check = SnapshotName.Check(fileName[..^suffix.Length]);
                return check.Value is { } snapshot ? new StoredFileName(snapshot, kind) : null;
            }
        }

        return null;
    }

    private static string Suffix(StreamKind kind) => kind switch
    {
        StreamKind.Full => FullSuffix,
        StreamKind.Incremental => IncrementalSuffix,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown stream kind"),
    };

    private static readonly (string Suffix, StreamKind? Kind)[] Forms =
    [
        (FullSuffix, StreamKind.Full),
        (IncrementalSuffix, StreamKind.Incremental),
        (ManifestSuffix, null),
    ];
}

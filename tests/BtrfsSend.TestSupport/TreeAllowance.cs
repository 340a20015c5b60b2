namespace BtrfsSend.TestSupport;

/// <summary>
/// One documented difference a comparison accepts (docs/fidelity.md): a field (or, ending in
/// '*', a field prefix such as <c>xattr.*</c>) of one path ("." = the root, null = every path),
/// optionally only for entries of one type.
/// </summary>
public sealed record TreeAllowance(string? Path, string Field, string Why, string? Type = null)
{
    /// <summary>
    /// The differences btrfs send itself leaves between a snapshot and its received copy that
    /// the comparison sees (docs/fidelity.md; each is measured by BtrfsSendLimitTests), and only these.
    /// </summary>
    public static IReadOnlyList<TreeAllowance> BtrfsSendLimits { get; } =
    [
        new(".", "mtime", "an incremental that creates an inode below an unchanged subvolume root leaves the root's mtime at the time of the receive"),
        new(null, "flags", "chattr flags (FS_IOC_GETFLAGS) are not carried; btrfs sets NOCOMPRESS (0x400) itself on a compress= mount"),
    ];

    public bool Covers(string path, string field, IReadOnlyDictionary<string, string> expectedFields)
        => (Path is null || Path == path)
           && (Field.EndsWith('*') ? field.StartsWith(Field[..^1], StringComparison.Ordinal) : field == Field)
           && (Type is null || expectedFields.GetValueOrDefault("type") == Type);
}

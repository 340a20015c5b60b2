namespace BtrfsSend.TestSupport;

/// <summary>
/// One documented difference a comparison accepts (docs/fidelity.md): a field (or, ending in
/// '*', a field prefix such as <c>xattr.*</c>) of one path ("." = the root, null = every path),
/// optionally only for entries of one type.
/// </summary>
public sealed record TreeAllowance(string? Path, string Field, string Why, string? Type = null)
{
    public bool Covers(string path, string field, IReadOnlyDictionary<string, string> expectedFields)
        => (Path is null || Path == path)
           && (Field.EndsWith('*') ? field.StartsWith(Field[..^1], StringComparison.Ordinal) : field == Field)
           && (Type is null || expectedFields.GetValueOrDefault("type") == Type);
}

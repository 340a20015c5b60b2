namespace BtrfsSend.Core.Naming;

/// <summary>
/// A backup set such as <c>prod-srv/rootfs</c>: 1–4 segments separated by <c>/</c>, each
/// <c>[a-z0-9][a-z0-9._-]{0,63}</c>, never <c>..</c> (docs/protocol.md). The set becomes a directory
/// path under BACKUP_ROOT, so everything that could escape it is refused.
/// </summary>
public sealed record BackupSet
{
    public const int MaxSegments = 4;
    public const int MaxSegmentLength = 64;
    public const string Rule = "1-4 segments separated by '/', each [a-z0-9][a-z0-9._-]{0,63}, no '..'";

    private BackupSet(string value) => Value = value;

    /// <summary>The set as written, e.g. <c>prod-srv/rootfs</c>.</summary>
    public string Value { get; }

    /// <summary>The segments, for building a relative directory path.</summary>
    public IReadOnlyList<string> Segments => Value.Split('/');

    public override string ToString() => Value;

    public static BackupSet Parse(string value)
    {
        var check = Check(value);
        return check.Value ?? throw new ArgumentException(check.Error, nameof(value));
    }

    public static NameCheck<BackupSet> Check(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return NameCheck<BackupSet>.Fail($"backup set is empty; allowed: {Rule}");
        }

        if (value.Length > (MaxSegments * MaxSegmentLength) + MaxSegments - 1)
        {
            return NameCheck<BackupSet>.Fail($"backup set is {value.Length} characters long; allowed: {Rule}");
        }

        if (value[0] == '/')
        {
            return NameCheck<BackupSet>.Fail($"backup set '{NameText.Printable(value)}' starts with '/' (absolute path); allowed: {Rule}");
        }

        var segments = value.Split('/');
        if (segments.Length > MaxSegments)
        {
            return NameCheck<BackupSet>.Fail($"backup set '{NameText.Printable(value)}' has {segments.Length} segments; allowed: {Rule}");
        }

        foreach (var segment in segments)
        {
            var problem = SegmentProblem(segment);
            if (problem is not null)
            {
                return NameCheck<BackupSet>.Fail($"backup set '{NameText.Printable(value)}': {problem}; allowed: {Rule}");
            }
        }

        return NameCheck<BackupSet>.Ok(new BackupSet(value));
    }

    private static string? SegmentProblem(string segment)
    {
        if (segment.Length == 0)
        {
            return "empty segment (leading, trailing or double '/')";
        }

        if (segment.Contains("..", StringComparison.Ordinal))
        {
            return $"segment '{NameText.Printable(segment)}' contains '..'";
        }

        if (segment[0] == '.')
        {
            return $"segment '{NameText.Printable(segment)}' starts with a dot";
        }

        if (segment.Length > MaxSegmentLength)
        {
            return $"segment is {segment.Length} characters long (at most {MaxSegmentLength})";
        }

        if (!IsLowerAlnum(segment[0]))
        {
            return $"segment '{NameText.Printable(segment)}' must start with a-z or 0-9";
        }

        foreach (var c in segment)
        {
            if (!IsLowerAlnum(c) && c is not ('.' or '_' or '-'))
            {
                return $"segment '{NameText.Printable(segment)}' contains {NameText.Describe(c)}";
            }
        }

        return null;
    }

    private static bool IsLowerAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}

using System.Globalization;

namespace BtrfsSend.Core.Naming;

/// <summary>
/// A snapshot name <c>&lt;prefix&gt;-&lt;yyyyMMddTHHmmssZ&gt;</c> (UTC), prefix
/// <c>[A-Za-z0-9][A-Za-z0-9._-]{0,99}</c> without <c>..</c> (docs/protocol.md).
/// </summary>
public sealed record SnapshotName
{
    public const string TimestampFormat = "yyyyMMdd'T'HHmmss'Z'";
    public const int TimestampLength = 16;
    public const int MaxPrefixLength = 100;
    public const string PrefixRule = "[A-Za-z0-9][A-Za-z0-9._-]{0,99}, no '..'";
    public const string Rule = "<prefix>-<yyyyMMddTHHmmssZ> (UTC), prefix " + PrefixRule;

    private SnapshotName(string prefix, DateTime timestampUtc)
    {
        Prefix = prefix;
        TimestampUtc = timestampUtc;
        Value = $"{prefix}-{timestampUtc.ToString(TimestampFormat, CultureInfo.InvariantCulture)}";
    }

    public string Prefix { get; }

    public DateTime TimestampUtc { get; }

    public string Value { get; }

    public override string ToString() => Value;

    /// <summary>Builds the name of a snapshot taken at <paramref name="timeUtc"/> (truncated to seconds).</summary>
    public static SnapshotName Create(string prefix, DateTimeOffset timeUtc)
    {
        var problem = PrefixProblem(prefix);
        if (problem is not null)
        {
            throw new ArgumentException($"snapshot prefix '{NameText.Printable(prefix)}': {problem}; allowed: {PrefixRule}", nameof(prefix));
        }

        var t = timeUtc.UtcDateTime;
        return new SnapshotName(prefix, new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, DateTimeKind.Utc));
    }

    public static SnapshotName Parse(string value)
    {
        var check = Check(value);
        return check.Value ?? throw new ArgumentException(check.Error, nameof(value));
    }

    public static NameCheck<SnapshotName> Check(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return NameCheck<SnapshotName>.Fail($"snapshot name is empty; allowed: {Rule}");
        }

        if (value.Length > MaxPrefixLength + 1 + TimestampLength)
        {
            return NameCheck<SnapshotName>.Fail($"snapshot name is {value.Length} characters long; allowed: {Rule}");
        }

        var dash = value.LastIndexOf('-');
        if (dash <= 0 || value.Length - dash - 1 != TimestampLength)
        {
            return NameCheck<SnapshotName>.Fail($"snapshot name '{NameText.Printable(value)}' does not end in -yyyyMMddTHHmmssZ; allowed: {Rule}");
        }

        var prefix = value[..dash];
        var problem = PrefixProblem(prefix);
        if (problem is not null)
        {
            return NameCheck<SnapshotName>.Fail($"snapshot name '{NameText.Printable(value)}': {problem}; allowed: {Rule}");
        }

        var stamp = value[(dash + 1)..];
        if (!DateTime.TryParseExact(stamp, TimestampFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
        {
            return NameCheck<SnapshotName>.Fail($"snapshot name '{NameText.Printable(value)}': '{NameText.Printable(stamp)}' is not a valid UTC time yyyyMMddTHHmmssZ; allowed: {Rule}");
        }

        return NameCheck<SnapshotName>.Ok(new SnapshotName(prefix, DateTime.SpecifyKind(time, DateTimeKind.Utc)));
    }

    /// <summary>Why <paramref name="prefix"/> is not a valid SNAPSHOT_PREFIX, or null.</summary>
    public static string? PrefixProblem(string prefix)
    {
        if (prefix.Length == 0)
        {
            return "prefix is empty";
        }

        if (prefix.Length > MaxPrefixLength)
        {
            return $"prefix is {prefix.Length} characters long (at most {MaxPrefixLength})";
        }

        if (prefix[0] == '.')
        {
            return "prefix starts with a dot";
        }

        if (prefix.Contains("..", StringComparison.Ordinal))
        {
            return "prefix contains '..'";
        }

        if (!char.IsAsciiLetterOrDigit(prefix[0]))
        {
            return "prefix must start with A-Z, a-z or 0-9";
        }

        foreach (var c in prefix)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-'))
            {
                return $"prefix contains {NameText.Describe(c)}";
            }
        }

        return null;
    }
}

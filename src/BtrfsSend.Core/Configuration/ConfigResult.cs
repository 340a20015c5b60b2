namespace BtrfsSend.Core.Configuration;

/// <summary>Validated options, or every error found; warnings (unknown keys, ignored settings) either way.</summary>
public sealed record ConfigResult<T>(T? Options, IReadOnlyList<ConfigIssue> Errors, IReadOnlyList<ConfigIssue> Warnings)
    where T : class
{
    public bool IsValid => Options is not null && Errors.Count == 0;
}

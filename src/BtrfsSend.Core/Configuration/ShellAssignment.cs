namespace BtrfsSend.Core.Configuration;

/// <summary>One <c>KEY=value</c> or <c>KEY=(a b c)</c> line of a shell-style config file.</summary>
/// <param name="Items">The words of a bash array; null for a plain value.</param>
internal sealed record ShellAssignment(string Key, string Value, IReadOnlyList<string>? Items, int Line)
{
    public bool IsArray => Items is not null;
}

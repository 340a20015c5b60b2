using Microsoft.Extensions.Configuration;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// A configuration source for an already-parsed shell-style file. Parsing happens before the
/// source is added so that syntax errors and unknown keys become <see cref="ConfigIssue"/>s with
/// line numbers instead of an exception from <c>Build()</c>.
/// </summary>
internal sealed class ShellConfigurationSource(string filePath, IReadOnlyList<ShellAssignment> assignments) : IConfigurationSource
{
    public string FilePath { get; } = filePath;

    public IReadOnlyList<ShellAssignment> Assignments { get; } = assignments;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new ShellConfigurationProvider(this);
}

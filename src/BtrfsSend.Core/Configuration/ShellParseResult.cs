namespace BtrfsSend.Core.Configuration;

/// <summary>The assignments of a shell-style file in order, and each line that could not be read.</summary>
internal sealed record ShellParseResult(IReadOnlyList<ShellAssignment> Assignments, IReadOnlyList<ShellSyntaxError> Errors);

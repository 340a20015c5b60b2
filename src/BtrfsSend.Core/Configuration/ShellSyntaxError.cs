namespace BtrfsSend.Core.Configuration;

/// <summary>A line of a shell-style file that could not be read; <see cref="Key"/> is empty when no key was recognised.</summary>
internal sealed record ShellSyntaxError(int Line, string Key, string Message);

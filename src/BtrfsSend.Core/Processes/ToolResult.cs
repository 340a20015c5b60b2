namespace BtrfsSend.Core.Processes;

/// <summary>What a finished child process produced.</summary>
public sealed record ToolResult(IReadOnlyList<string> Argv, int ExitCode, string StandardOutput, string StandardErrorTail, TimeSpan Duration)
{
    public bool IsSuccess => ExitCode == 0;
}

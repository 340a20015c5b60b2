namespace BtrfsSend.Core.Errors;

/// <summary>An external program exited non-zero (or could not be started).</summary>
public sealed class ToolFailedException(IReadOnlyList<string> argv, int exitCode, string stderrTail, Exception? innerException = null)
    : BtrfsSendException(Describe(argv, exitCode, stderrTail), innerException)
{
    public IReadOnlyList<string> Argv { get; } = argv;

    public int ToolExitCode { get; } = exitCode;

    public string StderrTail { get; } = stderrTail;

    public override ExitCode ExitCode => ExitCode.ToolFailed;

    private static string Describe(IReadOnlyList<string> argv, int exitCode, string stderrTail)
    {
        var tail = string.Join(" | ", stderrTail.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
        var what = exitCode < 0 ? "could not be started" : $"exited with {exitCode}";
        return $"'{Processes.Argv.Render(argv)}' {what}" + (tail.Length > 0 ? $": {tail}" : "");
    }
}

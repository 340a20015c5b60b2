using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Processes;

/// <summary>An external program exited non-zero (or could not be started).</summary>
/// <remarks>Lives with the processes (not in Core/Errors) because it renders argv: the error room stays below this one.</remarks>
public sealed class ToolFailedException(IReadOnlyList<string> argv, int exitCode, string stderrTail, Exception? innerException = null)
    : BtrfsSendException(Describe(argv, exitCode, stderrTail), innerException)
{
    public IReadOnlyList<string> Argv { get; } = argv;

    public int ToolExitCode { get; } = exitCode;

    public string StderrTail { get; } = stderrTail;

    public override ExitCode ExitCode => ExitCode.ToolFailed;

    private static string Describe(IReadOnlyList<string> argv, int exitCode, string stderrTail)
    {
        var what = exitCode < 0 ? "could not be started" : $"exited with {exitCode}";
        return $"'{Processes.Argv.Render(argv)}' {what}" + (string.IsNullOrWhiteSpace(stderrTail) ? "" : $": {Processes.StderrTail.LastLines(stderrTail, 3)}");
    }
}

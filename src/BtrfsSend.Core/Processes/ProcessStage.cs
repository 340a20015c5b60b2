namespace BtrfsSend.Core.Processes;

/// <summary>
/// A child process in a <see cref="StreamPipeline"/>: its stdin is the previous stage's output,
/// its stdout the next stage's input. As the last stage its stdout is kept (bounded) in the result.
/// </summary>
/// <param name="Argv">The command, an array; never a string.</param>
public sealed record ProcessStage(IReadOnlyList<string> Argv) : PipelineStage(Processes.Argv.Render(Argv.Take(2)))
{
    /// <summary>
    /// True (default): a non-zero exit is the pipeline's failure. False: the caller reads the exit
    /// code from the result (ssh, whose exit code and answer only the caller can interpret).
    /// </summary>
    public bool ChecksExitCode { get; init; } = true;

    /// <summary>
    /// True (default): killed when another stage fails. False: left to end on its own once its
    /// input closes, so the far end sees the stream cut and can say so (ssh to the receiver).
    /// </summary>
    public bool IsKilledOnFailure { get; init; } = true;

    /// <summary>As the last stage: its stdout goes into the stderr tail instead of the result's output.</summary>
    public bool MergesStdoutIntoStderr { get; init; }

    /// <summary>Applied to the stderr tail before it goes into an error message (drops a tool's routine notices).</summary>
    public Func<string, string>? StderrFilter { get; init; }
}

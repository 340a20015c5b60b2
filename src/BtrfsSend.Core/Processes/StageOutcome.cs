namespace BtrfsSend.Core.Processes;

/// <summary>How one stage of a finished <see cref="StreamPipeline"/> ended.</summary>
/// <param name="Name">The stage's name (a child's first two words of argv).</param>
/// <param name="IsCompleted">A code stage returned without error; a child exited 0.</param>
/// <param name="ExitCode">A child's exit code; null for a code stage or a child that was killed or never started.</param>
/// <param name="StandardErrorTail">The last few KiB of a child's stderr (filtered); empty for a code stage.</param>
/// <param name="StandardOutput">The last child's stdout (its last few KiB); empty otherwise.</param>
public sealed record StageOutcome(string Name, bool IsCompleted, int? ExitCode, string StandardErrorTail, string StandardOutput);

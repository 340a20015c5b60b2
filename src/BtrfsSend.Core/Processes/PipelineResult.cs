namespace BtrfsSend.Core.Processes;

/// <summary>
/// What a <see cref="StreamPipeline"/> run ended with: the one failure that explains it (null when
/// every code stage completed and every checked child exited 0) and each stage's outcome.
/// </summary>
public sealed record PipelineResult(Exception? Failure, IReadOnlyList<StageOutcome> Stages)
{
    public bool IsSuccess => Failure is null;

    /// <summary>Rethrows <see cref="Failure"/> with its original stack, if there is one.</summary>
    public void ThrowIfFailed()
    {
        if (Failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(Failure);
        }
    }
}

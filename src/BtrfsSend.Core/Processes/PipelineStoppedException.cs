namespace BtrfsSend.Core.Processes;

/// <summary>
/// Thrown inside a stage when its pipeline stops because of another stage: the stopping is never
/// the reason reported (the first failure is), so it is a cancellation.
/// </summary>
public sealed class PipelineStoppedException(string message) : OperationCanceledException(message);

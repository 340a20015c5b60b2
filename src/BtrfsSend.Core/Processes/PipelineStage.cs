namespace BtrfsSend.Core.Processes;

/// <summary>One stage of a <see cref="StreamPipeline"/>: a child process or an in-process stream stage.</summary>
public abstract record PipelineStage(string Name);

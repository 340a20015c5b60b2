namespace BtrfsSend.Core.Processes;

/// <summary>
/// An in-process stage of a <see cref="StreamPipeline"/> (validate, encrypt, frame, hash, hold back
/// END, consume): it reads <see cref="StageContext.Input"/> and writes
/// <see cref="StageContext.Output"/>. Anything it throws is the pipeline's failure, unless the
/// pipeline is already stopping. A stage that finalizes (writes a trailer, releases END) must first
/// await <see cref="StageContext.UpstreamSucceededAsync"/>.
/// </summary>
public sealed record CodeStage(string Name, Func<StageContext, Task> RunAsync) : PipelineStage(Name);

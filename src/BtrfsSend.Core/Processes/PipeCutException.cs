namespace BtrfsSend.Core.Processes;

/// <summary>
/// A stage's stream was cut: a child exited before the whole stream was written to it, or a stage
/// ended without finishing. CliWrap swallows a broken pipe on a child's stdin, so the pipeline
/// raises this itself (docs/architecture.md, pipe trap 1). An <see cref="IOException"/>, like the broken pipe it stands for.
/// </summary>
public sealed class PipeCutException(string message, Exception? innerException = null) : IOException(message, innerException);

using System.Buffers;

namespace BtrfsSend.Core.Processes;

/// <summary>
/// Runs a streaming pipeline: child processes (<see cref="ProcessStage"/>) and in-process stages
/// (<see cref="CodeStage"/>), each stage's output the next one's input, memory bounded whatever the
/// stream size. This runner alone owns the rules every pipeline keeps (docs/architecture.md, "Pipe traps"):
/// <list type="bullet">
/// <item>every child pipe is enlarged to 1 MiB (<see cref="PipeCapacity"/>);</item>
/// <item>the first failure wins and stops the rest (children killed, code stages cancelled); the
/// stopping itself (<see cref="OperationCanceledException"/> in other stages) is never the reason reported;</item>
/// <item>a checked child that exited non-zero on its own is the reason, not the broken pipe its feeder
/// or the cut stream its reader saw;</item>
/// <item>a child that exits before the whole stream was written to it is a failure
/// (<see cref="PipeCutException"/>), although CliWrap swallows that broken pipe (trap 1);</item>
/// <item>a code stage makes its output final only after <see cref="StageContext.UpstreamSucceededAsync"/>
/// (traps 2 and 3), and a pipeline succeeds only when every code stage returned and every checked child exited 0.</item>
/// </list>
/// Children and code stages alternate: two children in a row or two code stages in a row are refused
/// (join two code stages into one; put a <see cref="Pump"/> stage between two children).
/// </summary>
public static class StreamPipeline
{
    /// <summary>The copy buffer of <see cref="Pump"/>: as large as the enlarged pipes.</summary>
    public const int BufferSize = PipeCapacity.Streaming;

    /// <summary>Runs <paramref name="stages"/> to the end. Throws only for the caller's cancellation; every other failure is in the result.</summary>
    public static Task<PipelineResult> RunAsync(IReadOnlyList<PipelineStage> stages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentOutOfRangeException.ThrowIfZero(stages.Count);
        for (var i = 1; i < stages.Count; i++)
        {
            if (stages[i] is ProcessStage == stages[i - 1] is ProcessStage)
            {
                throw new ArgumentException($"stages {stages[i - 1].Name} and {stages[i].Name} are both {(stages[i] is ProcessStage ? "children" : "code stages")}; children and code stages alternate", nameof(stages));
            }
        }

        return new PipelineRun(stages, cancellationToken).RunAsync();
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="destination"/> in one synchronous loop on a
    /// dedicated thread with a pooled 1 MiB buffer (measured cheaper per GiB than an async hop per
    /// 64 KiB read), reporting each chunk's size to <paramref name="copied"/>. Returns the bytes copied.
    /// </summary>
    public static Task<long> Pump(Stream source, Stream destination, Action<int>? copied = null)
    {
        PipeCapacity.TryEnlarge(source);
        return Task.Factory.StartNew(
            () =>
            {
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                try
                {
                    long total = 0;
                    int n;
                    while ((n = source.Read(buffer, 0, BufferSize)) > 0)
                    {
                        destination.Write(buffer, 0, n);
                        total += n;
                        copied?.Invoke(n);
                    }

                    return total;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }
}

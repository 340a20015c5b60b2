namespace BtrfsSend.Core.Processes;

/// <summary>What a <see cref="CodeStage"/> works with while its pipeline runs.</summary>
public sealed class StageContext
{
    private readonly Stream? _input;
    private readonly Stream? _output;
    private readonly Func<Task<bool>> _upstreamSucceeded;

    internal StageContext(string name, Stream? input, Stream? output, Func<Task<bool>> upstreamSucceeded, CancellationToken cancellationToken)
    {
        Name = name;
        _input = input;
        _output = output;
        _upstreamSucceeded = upstreamSucceeded;
        CancellationToken = cancellationToken;
    }

    public string Name { get; }

    /// <summary>The previous stage's output (a child's stdout); there is none for the first stage.</summary>
    public Stream Input => _input ?? throw new InvalidOperationException($"{Name} is the first stage: it has no input");

    /// <summary>The next stage's input (a child's stdin, closed when this stage returns); there is none for the last stage.</summary>
    public Stream Output => _output ?? throw new InvalidOperationException($"{Name} is the last stage: it has no output");

    /// <summary>Cancelled when the pipeline stops (another stage failed) or the caller cancels.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Says this stage has read all it will read, then waits until every stage before it ended
    /// successfully (children exited 0, code stages returned, nothing failed anywhere); throws
    /// <see cref="PipelineStoppedException"/> otherwise. Call it before anything that makes the
    /// stream final downstream: a trailer, an MDC, the held-back END (docs/architecture.md, pipe traps 2 and 3).
    /// </summary>
    public async Task UpstreamSucceededAsync()
    {
        if (!await _upstreamSucceeded())
        {
            throw new PipelineStoppedException($"{Name}: an earlier stage of the pipeline failed");
        }
    }
}

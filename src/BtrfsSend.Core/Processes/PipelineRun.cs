using CliWrap;

namespace BtrfsSend.Core.Processes;

/// <summary>
/// One run of a <see cref="StreamPipeline"/>. Every stage runs as its own task; a child hands its
/// stdin to the code stage before it and its stdout to the code stage after it, and keeps each pipe
/// open until that stage is done with it.
/// </summary>
internal sealed class PipelineRun
{
    private readonly IReadOnlyList<PipelineStage> _stages;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _stop;
    private readonly TaskCompletionSource<Stream>[] _inputs;
    private readonly TaskCompletionSource<Stream>[] _outputs;
    private readonly TaskCompletionSource[] _readDone;
    private readonly TaskCompletionSource[] _ended;
    private readonly TaskCompletionSource<bool>[] _succeeded;
    private readonly bool[] _completed;
    private readonly bool[] _childEnded;
    private readonly bool[] _inputCut;
    private readonly int?[] _exitCodes;
    private readonly ObservedPipe?[] _observedInputs;
    private readonly ObservedPipe?[] _observedOutputs;
    private readonly StderrTail[] _stderr;
    private readonly StderrTail _stdout = new(64 * 1024);
    private readonly Lock _gate = new();
    private (int Stage, Exception Error)? _firstFailure;
    private int? _stopWaitsFor;

    public PipelineRun(IReadOnlyList<PipelineStage> stages, CancellationToken cancellationToken)
    {
        _stages = stages;
        _callerToken = cancellationToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var n = stages.Count;
        _inputs = Many(n, () => new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously));
        _outputs = Many(n, () => new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously));
        _readDone = Many(n, () => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _ended = Many(n, () => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _succeeded = Many(n, () => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        _completed = new bool[n];
        _childEnded = new bool[n];
        _inputCut = new bool[n];
        _exitCodes = new int?[n];
        _observedInputs = new ObservedPipe?[n];
        _observedOutputs = new ObservedPipe?[n];
        _stderr = Many(n, () => new StderrTail());
    }

    private bool HasFailure
    {
        get
        {
            lock (_gate)
            {
                return _firstFailure is not null;
            }
        }
    }

    public async Task<PipelineResult> RunAsync()
    {
        using (_stop)
        {
            var tasks = _stages.Select((stage, i) => stage is ProcessStage child ? RunChildAsync(i, child) : RunCodeAsync(i, (CodeStage)stage)).ToList();
            await Task.WhenAll(tasks);
            _callerToken.ThrowIfCancellationRequested();
            for (var i = 0; i < _stages.Count && !HasFailure; i++)
            {
                if (!_completed[i] && (_stages[i] is CodeStage || ((ProcessStage)_stages[i]).ChecksExitCode))
                {
                    // Defensive: nothing recorded a reason, but a stage did not finish: never a success.
                    Record(i, new PipeCutException($"{_stages[i].Name} stopped before the whole stream went through it"));
                }
            }

            var outcomes = _stages.Select((stage, i) => new StageOutcome(
                stage.Name,
                _completed[i],
                _exitCodes[i],
                stage is ProcessStage child ? Filtered(child, i) : "",
                i == _stages.Count - 1 && stage is ProcessStage ? _stdout.Text : "")).ToList();
            return new PipelineResult(Explain(), outcomes);
        }
    }

    private static T[] Many<T>(int count, Func<T> create) => [.. Enumerable.Range(0, count).Select(_ => create())];

    private async Task RunChildAsync(int i, ProcessStage child)
    {
        try
        {
            var result = await ChildCommand(i, child).ExecuteAsync(child.IsKilledOnFailure ? _stop.Token : _callerToken);
            _exitCodes[i] = result.ExitCode;
            if (result.ExitCode != 0 && child.ChecksExitCode)
            {
                Record(i, ChildFailure(i));
            }
        }
        catch (OperationCanceledException)
        {
            // Killed: by the caller, or by us after another stage failed. Neither is this child's failure.
        }
        catch (Exception ex)
        {
            // CliWrap reports a missing executable as Win32Exception/InvalidOperationException.
            Record(i, new ToolFailedException(child.Argv, -1, ex.Message, ex));
        }
        finally
        {
            await ChildEndedAsync(i, child);
        }

        if (i > 0 && !_ended[i - 1].Task.IsCompleted)
        {
            // It exited while the stage before it was still writing (CliWrap does not wait for that):
            // whatever that stage still had for it was lost, unless it finishes after all.
            await _stop.CancelAsync();
            await _ended[i - 1].Task;
            if (!_completed[i - 1])
            {
                _inputCut[i] = _exitCodes[i] is not null;
                Record(i - 1, new PipeCutException($"{child.Name} exited before the whole stream was written to it"));
            }
        }

        _completed[i] = _exitCodes[i] == 0;
        _succeeded[i].TrySetResult(_completed[i] && (i == 0 || await _succeeded[i - 1].Task) && !HasFailure);
    }

    /// <summary>The child's command: stdin from the code stage before it, stdout to the one after it (or kept as the tail), stderr tailed.</summary>
    private Command ChildCommand(int i, ProcessStage child)
    {
        var last = i == _stages.Count - 1;
        var command = Cli.Wrap(child.Argv[0]).WithArguments(child.Argv.Skip(1))
            .WithValidation(CommandResultValidation.None)
            .WithStandardErrorPipe(PipeTarget.Create(_stderr[i].CopyFromAsync));
        if (i > 0)
        {
            command = command.WithStandardInputPipe(PipeSource.Create(async (stdin, _) =>
            {
                PipeCapacity.TryEnlarge(stdin);
                _outputs[i - 1].TrySetResult(stdin);
                await _ended[i - 1].Task; // CliWrap closes stdin when this returns
            }));
        }

        command = last
            ? command.WithStandardOutputPipe(PipeTarget.Create(child.MergesStdoutIntoStderr ? _stderr[i].CopyFromAsync : _stdout.CopyFromAsync))
            : command.WithStandardOutputPipe(PipeTarget.Create(async (stdout, _) =>
            {
                PipeCapacity.TryEnlarge(stdout);
                _inputs[i + 1].TrySetResult(stdout);
                await _readDone[i + 1].Task;
            }));

        return command;
    }

    /// <summary>The child has ended (exited, killed or never started): release whoever waits for its pipes or for its end.</summary>
    private async Task ChildEndedAsync(int i, ProcessStage child)
    {
        // A code stage still waiting for one of this child's pipes will never get it.
        var gone = new PipeCutException($"{child.Name} ended before its pipe was opened");
        if (i > 0)
        {
            _outputs[i - 1].TrySetException(gone);
        }

        if (i < _stages.Count - 1)
        {
            _inputs[i + 1].TrySetException(gone);
        }

        bool stopNow;
        lock (_gate)
        {
            _childEnded[i] = true;
            stopNow = _stopWaitsFor == i;
        }

        if (stopNow)
        {
            await _stop.CancelAsync(); // the first failure waited for this child to end (see Record)
        }
    }

    private async Task RunCodeAsync(int i, CodeStage stage)
    {
        try
        {
            var input = i > 0 ? _observedInputs[i] = new ObservedPipe(await _inputs[i].Task) : null;
            var output = i < _stages.Count - 1 ? _observedOutputs[i] = new ObservedPipe(await _outputs[i].Task) : null;
            var context = new StageContext(stage.Name, input, output, UpstreamSucceededAsync, _stop.Token);
            await stage.RunAsync(context);
            _completed[i] = true;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The pipeline is stopping: some other stage's failure (or the caller) is the reason.
        }
        catch (Exception ex)
        {
            Record(i, ex);
        }
        finally
        {
            _readDone[i].TrySetResult();
            _ended[i].TrySetResult();
        }

        _succeeded[i].TrySetResult(_completed[i] && (i == 0 || await _succeeded[i - 1].Task) && !HasFailure);

        async Task<bool> UpstreamSucceededAsync()
        {
            _readDone[i].TrySetResult();
            return (i == 0 || await _succeeded[i - 1].Task) && !HasFailure;
        }
    }

    /// <summary>
    /// Keeps the first failure and stops every other stage, at once, or, when the failure follows
    /// from a neighbouring child closing its end (a broken pipe into it, a cut stream out of it),
    /// as soon as that child has ended: killing it earlier would hide its exit code, which is the reason.
    /// </summary>
    private void Record(int stage, Exception error)
    {
        lock (_gate)
        {
            if (_firstFailure is not null)
            {
                return; // the first failure already decided when everything stops
            }

            _firstFailure = (stage, error);
            if (_observedOutputs[stage]?.HasBrokenPipe == true && !_childEnded[stage + 1])
            {
                _stopWaitsFor = stage + 1;
                return;
            }

            if (_observedInputs[stage]?.HasSeenEnd == true && !_childEnded[stage - 1])
            {
                _stopWaitsFor = stage - 1;
                return;
            }
        }

        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run is over.
        }
    }

    /// <summary>
    /// The first failure, unless a neighbouring child explains it: a broken pipe into a child that
    /// exited early, or a failure found after the end of a stream read from a child that failed
    /// (the stream was cut), is only the consequence.
    /// </summary>
    private Exception? Explain()
    {
        if (_firstFailure is not { } first)
        {
            return null;
        }

        var (stage, error) = first;
        if (_observedOutputs[stage]?.HasBrokenPipe == true && _stages[stage + 1] is ProcessStage next && _exitCodes[stage + 1] is { } nextExit)
        {
            return nextExit != 0 && next.ChecksExitCode
                ? ChildFailure(stage + 1)
                : new PipeCutException($"{next.Name} exited before the whole stream was written to it ({error.Message})", error);
        }

        if (error is PipeCutException && stage + 1 < _stages.Count && _stages[stage + 1] is ProcessStage { ChecksExitCode: true } && _inputCut[stage + 1] && _exitCodes[stage + 1] is not (null or 0))
        {
            return ChildFailure(stage + 1);
        }

        if (_observedInputs[stage]?.HasSeenEnd == true && _stages[stage - 1] is ProcessStage { ChecksExitCode: true } && _exitCodes[stage - 1] is not (null or 0))
        {
            return ChildFailure(stage - 1);
        }

        return error;
    }

    private ToolFailedException ChildFailure(int i)
    {
        var child = (ProcessStage)_stages[i];
        return new ToolFailedException(child.Argv, _exitCodes[i] ?? -1, Filtered(child, i));
    }

    private string Filtered(ProcessStage child, int i)
        => child.StderrFilter is { } filter ? filter(_stderr[i].Text) : _stderr[i].Text;
}

using System.Globalization;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Core.Tests.Processes;

/// <summary>
/// The runner's failure matrix against a real dummy child (dummy-stage.sh: exit n, die by a signal,
/// close stdin early, write then fail, stall), without root. Pipelines are
/// <c>source → child → middle → child → sink</c>; the time limit is only a hang guard.
/// </summary>
public sealed class StreamPipelineTests
{
    /// <summary>More than an enlarged pipe holds, so a child that stops reading breaks its writer's pipe.</summary>
    private const int StreamBytes = 8 << 20;

    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(90);

    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Processes", "dummy-stage.sh");

    public static TheoryData<int, string, int, int> FailingChildren => new()
    {
        // position, mode, argument, expected exit code
        { 1, "exit", 3, 3 },
        { 3, "exit", 3, 3 },
        { 1, "exit-now", 4, 4 },
        { 3, "exit-now", 4, 4 },
        { 1, "signal", 0, 128 + 9 },
        { 3, "signal", 0, 128 + 9 },
        { 1, "write-then-fail", 5, 5 },
        { 3, "write-then-fail", 5, 5 },
    };

    [Fact]
    public async Task A_healthy_pipeline_carries_every_byte_and_reports_success()
    {
        var sink = new Sink();

        var result = await RunAsync(Source(), Child("cat"), Middle(), Child("cat"), sink.Stage());

        Assert.Null(result.Failure);
        Assert.True(result.IsSuccess);
        Assert.Equal(StreamBytes, sink.Bytes);
        Assert.All(result.Stages, s => Assert.True(s.IsCompleted, s.Name));
        Assert.Equal([null, 0, null, 0, null], result.Stages.Select(s => s.ExitCode));
    }

    [Theory]
    [MemberData(nameof(FailingChildren))]
    public async Task A_child_that_fails_is_the_reported_failure_wherever_it_stands(int position, string mode, int argument, int expectedExit)
    {
        var failing = Dummy(mode, argument);
        PipelineStage[] stages = [Source(), Child("cat"), Middle(), Child("cat"), new Sink().Stage()];
        stages[position] = new ProcessStage(failing);

        var result = await RunAsync(stages);

        Assert.False(result.IsSuccess);
        var failed = Assert.IsType<ToolFailedException>(result.Failure);
        Assert.Same(failing, failed.Argv);
        Assert.Equal(expectedExit, failed.ToolExitCode);
        Assert.Equal(expectedExit, result.Stages[position].ExitCode);
        Assert.Contains("dummy: ", failed.Message, StringComparison.Ordinal); // the last lines of its stderr
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task A_child_that_exits_0_without_reading_its_input_is_a_cut_stream_not_a_success(int position)
    {
        PipelineStage[] stages = [Source(), Child("cat"), Middle(), Child("cat"), new Sink().Stage()];
        stages[position] = Child("close-stdin");

        var result = await RunAsync(stages);

        Assert.False(result.IsSuccess);
        var cut = Assert.IsType<PipeCutException>(result.Failure);
        Assert.Contains("exited before the whole stream was written to it", cut.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task A_code_stage_that_throws_is_the_reported_failure_not_what_the_stopping_did_to_the_others(int position)
    {
        var boom = new InvalidDataException($"boom at stage {position}");
        var sink = new Sink();
        PipelineStage[] stages = [Source(), Child("cat"), Middle(), Child("cat"), sink.Stage()];
        stages[position] = position switch
        {
            0 => new CodeStage("source", async s =>
            {
                await s.Output.WriteAsync(new byte[1 << 20], s.CancellationToken);
                throw boom;
            }),
            2 => new CodeStage("middle", async s =>
            {
                await ReadAtLeastAsync(s.Input, 1 << 20, s.CancellationToken);
                throw boom;
            }),
            _ => new CodeStage("sink", async s =>
            {
                await ReadAtLeastAsync(s.Input, 1 << 20, s.CancellationToken);
                throw boom;
            }),
        };

        var result = await RunAsync(stages);

        Assert.Same(boom, result.Failure);
        Assert.False(result.Stages[position].IsCompleted);
    }

    [Fact]
    public async Task A_consumer_that_stops_reading_early_is_never_a_success()
    {
        var result = await RunAsync(
            Source(),
            Child("cat"),
            Middle(),
            Child("cat"),
            new CodeStage("early sink", s => ReadAtLeastAsync(s.Input, 1 << 20, s.CancellationToken)));

        Assert.False(result.IsSuccess);
        Assert.NotNull(result.Failure);
    }

    [Fact]
    public async Task A_reader_that_finds_its_stream_cut_blames_the_child_that_died()
    {
        var writer = Dummy("write-then-fail", 5);

        var result = await RunAsync(
            new ProcessStage(writer),
            new CodeStage("reader that checks the end", async s =>
            {
                await s.Input.CopyToAsync(Stream.Null, s.CancellationToken);
                throw new InvalidDataException("the stream ended before its END");
            }));

        var failed = Assert.IsType<ToolFailedException>(result.Failure);
        Assert.Same(writer, failed.Argv);
        Assert.Equal(5, failed.ToolExitCode);
    }

    [Theory]
    [InlineData("cat", true)]
    [InlineData("write-then-fail", false)]
    [InlineData("signal", false)]
    public async Task A_stage_finalizes_only_after_every_earlier_stage_succeeded(string mode, bool expectFinalized)
    {
        var finalized = false;

        var result = await RunAsync(
            new CodeStage("source", s => s.Output.WriteAsync(new byte[64 * 1024], s.CancellationToken).AsTask()),
            Child(mode, 5),
            new CodeStage("framer", async s =>
            {
                await StreamPipeline.Pump(s.Input, Stream.Null);
                await s.UpstreamSucceededAsync();
                finalized = true; // where a trailer or the held-back END would be written
            }));

        Assert.Equal(expectFinalized, finalized);
        Assert.Equal(expectFinalized, result.IsSuccess);
    }

    [Fact]
    public async Task A_stalled_child_is_killed_when_another_stage_fails()
    {
        var boom = new InvalidDataException("the sink gave up");

        var result = await RunAsync(
            Source(64 * 1024),
            Child("stall"),
            new CodeStage("sink", _ => throw boom));

        Assert.Same(boom, result.Failure);
        Assert.Null(result.Stages[1].ExitCode); // killed, not exited
    }

    [Fact]
    public async Task The_callers_cancellation_ends_a_stalled_pipeline_as_a_cancellation()
    {
        using var cancel = new CancellationTokenSource();
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = StreamPipeline.RunAsync(
            [
                Child("stall"),
                new CodeStage("sink", async s =>
                {
                    reading.SetResult();
                    await s.Input.CopyToAsync(Stream.Null, s.CancellationToken);
                }),
            ],
            cancel.Token);
        await reading.Task.WaitAsync(HangGuard);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(HangGuard));
    }

    [Fact]
    public async Task A_program_that_cannot_start_is_a_tool_failure_not_a_hang()
    {
        string[] missing = ["/nonexistent/program"];

        var result = await RunAsync(Source(), new ProcessStage(missing), new Sink().Stage());

        var failed = Assert.IsType<ToolFailedException>(result.Failure);
        Assert.Equal(-1, failed.ToolExitCode);
    }

    [Fact]
    public async Task An_unchecked_last_child_leaves_its_exit_code_and_output_to_the_caller()
    {
        var result = await RunAsync(
            new CodeStage("source", s => s.Output.WriteAsync("hello\n"u8.ToArray(), s.CancellationToken).AsTask()),
            new ProcessStage(["/bin/sh", "-c", "cat; echo 'ERR exists' >&2; exit 7"]) { ChecksExitCode = false });

        Assert.True(result.IsSuccess);
        Assert.Equal(7, result.Stages[1].ExitCode);
        Assert.Equal("hello\n", result.Stages[1].StandardOutput);
        Assert.Equal("ERR exists", StderrTail.LastLines(result.Stages[1].StandardErrorTail));
    }

    [Fact]
    public async Task Children_and_code_stages_must_alternate()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => StreamPipeline.RunAsync([Child("cat"), Child("cat")]));
        await Assert.ThrowsAsync<ArgumentException>(() => StreamPipeline.RunAsync([Source(), Middle()]));
    }

    [Theory]
    [InlineData("", StderrTail.Nothing)]
    [InlineData("\n  \n", StderrTail.Nothing)]
    [InlineData("one\ntwo\nthree\n", "two | three")]
    [InlineData("bell\a here", "bell\\x07 here")]
    public void The_last_lines_of_a_tools_stderr_are_quoted_one_way(string stderr, string expected)
    {
        Assert.Equal(expected, StderrTail.LastLines(stderr));
    }

    private static string[] Dummy(string mode, int argument = 0) => ["/bin/sh", Script, mode, argument.ToString(CultureInfo.InvariantCulture)];

    private static ProcessStage Child(string mode, int argument = 0) => new(Dummy(mode, argument));

    private static CodeStage Source(int bytes = StreamBytes) => new("source", async s =>
    {
        var chunk = new byte[64 * 1024];
        for (var left = bytes; left > 0; left -= chunk.Length)
        {
            await s.Output.WriteAsync(chunk.AsMemory(0, Math.Min(chunk.Length, left)), s.CancellationToken);
        }
    });

    private static CodeStage Middle() => new("middle", s => StreamPipeline.Pump(s.Input, s.Output));

    private static async Task ReadAtLeastAsync(Stream input, int bytes, CancellationToken cancellationToken)
        => await input.ReadAtLeastAsync(new byte[bytes], bytes, throwOnEndOfStream: true, cancellationToken);

    /// <summary>Runs under a hang guard: a pipeline still running after it fails the test as a hang (this is not a timing assertion).</summary>
    private static async Task<PipelineResult> RunAsync(params PipelineStage[] stages)
    {
        using var guard = new CancellationTokenSource(HangGuard);
        try
        {
            return await StreamPipeline.RunAsync(stages, guard.Token);
        }
        catch (OperationCanceledException) when (guard.IsCancellationRequested)
        {
            throw new Xunit.Sdk.XunitException($"the pipeline hung: still running after {HangGuard.TotalSeconds} s");
        }
    }

    private sealed class Sink
    {
        public long Bytes { get; private set; }

        public CodeStage Stage() => new("sink", async s =>
        {
            var buffer = new byte[1 << 20];
            int n;
            while ((n = await s.Input.ReadAsync(buffer, s.CancellationToken)) > 0)
            {
                Bytes += n;
            }
        });
    }
}

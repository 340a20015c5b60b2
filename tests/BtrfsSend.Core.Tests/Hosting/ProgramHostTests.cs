using System.CommandLine;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using BtrfsSend.Hosting;
using Serilog;

namespace BtrfsSend.Core.Tests.Hosting;

public sealed class ProgramHostTests
{
    private static readonly ILogger Silent = new LoggerConfiguration().CreateLogger();

    private static async Task<(int Code, string Stderr)> RunAsync(Func<CancellationToken, Task<int>> action, params string[] args)
    {
        var root = new RootCommand("test");
        root.SetAction((_, ct) => action(ct));
        var stderr = new StringWriter();
        var code = await ProgramHost.RunAsync("prog", root, args, Silent, stderr);
        return (code, stderr.ToString());
    }

    [Fact]
    public async Task A_successful_action_returns_its_own_exit_code()
    {
        var (code, _) = await RunAsync(_ => Task.FromResult(0));

        Assert.Equal(0, code);
    }

    [Fact]
    public async Task An_unknown_option_is_a_usage_error_with_exit_code_2_and_a_hint()
    {
        var (code, stderr) = await RunAsync(_ => Task.FromResult(0), "--bogus");

        Assert.Equal((int)ExitCode.Usage, code);
        Assert.Contains("--bogus", stderr, StringComparison.Ordinal);
        Assert.Contains("Try 'prog --help'.", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("config", ExitCode.Config)]
    [InlineData("lock", ExitCode.LockHeld)]
    [InlineData("transfer", ExitCode.TransferFailed)]
    [InlineData("integrity", ExitCode.IntegrityFailed)]
    [InlineData("prerequisite", ExitCode.Prerequisite)]
    [InlineData("storage", ExitCode.StorageFailed)]
    [InlineData("tool", ExitCode.ToolFailed)]
    public async Task An_expected_failure_maps_to_its_exit_code(string kind, ExitCode expected)
    {
        BtrfsSendException failure = kind switch
        {
            "config" => new ConfigException("boom"),
            "lock" => new LockHeldException("boom"),
            "transfer" => new TransferFailedException("boom"),
            "integrity" => new IntegrityException("boom"),
            "prerequisite" => new PrerequisiteException("boom"),
            "storage" => new StorageException("boom"),
            _ => new ToolFailedException(["btrfs", "send"], 1, "ERROR: boom"),
        };

        var (code, _) = await RunAsync(_ => throw failure);

        Assert.Equal((int)expected, code);
    }

    [Fact]
    public async Task A_refusal_maps_to_the_refused_exit_code()
    {
        var (code, _) = await RunAsync(_ => throw new RefusedException("exists", "snapshot exists"));

        Assert.Equal((int)ExitCode.Refused, code);
    }

    [Fact]
    public async Task A_bug_maps_to_exit_code_1()
    {
        var (code, _) = await RunAsync(_ => throw new InvalidOperationException("bug"));

        Assert.Equal((int)ExitCode.InternalError, code);
    }

    [Fact]
    public void The_exit_code_table_lists_every_code_once()
    {
        var table = ProgramHost.ExitCodeTable();

        foreach (var code in Enum.GetValues<ExitCode>())
        {
            Assert.Single(table.Split('\n'), line => line.Trim().StartsWith($"{(int)code} ", StringComparison.Ordinal));
        }
    }
}

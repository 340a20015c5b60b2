using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests;

public sealed class ProgramTests
{
    [Fact]
    public async Task Help_describes_the_program_and_lists_the_exit_codes()
    {
        var result = await Run.TryAsync(ProgramBinaries.Producer, "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("btrfs-send-backup", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("143  Terminated", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_prints_the_assembly_version()
    {
        var result = await Run.TryAsync(ProgramBinaries.Producer, "--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StandardOutput);
    }

    [Fact]
    public async Task An_unknown_option_exits_2_with_one_clear_line_on_stderr_and_nothing_on_stdout()
    {
        var result = await Run.TryAsync(ProgramBinaries.Producer, "--no-such-option");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Contains("--no-such-option", result.StandardErrorTail, StringComparison.Ordinal);
    }
}

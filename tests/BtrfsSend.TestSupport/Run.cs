using BtrfsSend.Core.Processes;

namespace BtrfsSend.TestSupport;

/// <summary>Short helpers over Core's <see cref="ToolRunner"/> for test set-up (argv arrays only).</summary>
public static class Run
{
    private static readonly ToolRunner Runner = new();

    /// <summary>Runs argv, throws on non-zero exit, returns stdout.</summary>
    public static async Task<string> OutAsync(params string[] argv)
        => (await Runner.RunAsync(argv)).StandardOutput;

    /// <summary>Runs argv with stdin bytes, throws on non-zero exit, returns stdout.</summary>
    public static async Task<string> OutWithInputAsync(byte[] stdin, params string[] argv)
        => (await Runner.RunAsync(argv, stdin)).StandardOutput;

    /// <summary>Runs argv and returns the result whatever the exit code.</summary>
    public static Task<ToolResult> TryAsync(params string[] argv) => Runner.TryRunAsync(argv);
}

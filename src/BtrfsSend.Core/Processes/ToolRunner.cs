using System.Text;
using BtrfsSend.Core.Errors;
using CliWrap;

namespace BtrfsSend.Core.Processes;

/// <summary>
/// The one narrow door to child processes for short commands (btrfs subvolume ..., systemctl ...).
/// argv is an array, never a string; a non-zero exit throws <see cref="ToolFailedException"/>
/// carrying argv, exit code and the tail of stderr. Streaming pipelines use CliWrap directly
/// through the same conventions.
/// </summary>
public sealed class ToolRunner
{
    /// <summary>How much of stdout is kept; more is a bug in the caller (use a stream instead).</summary>
    public const int MaxCapturedStdout = 16 * 1024 * 1024;

    /// <summary>Bytes of stderr kept for error messages.</summary>
    public const int TailCapacity = 8192;

    private readonly IReadOnlyDictionary<string, string?> _environment;

    public ToolRunner(IReadOnlyDictionary<string, string?>? environment = null)
    {
        _environment = environment ?? new Dictionary<string, string?>();
    }

    /// <summary>Runs argv to completion and throws on a non-zero exit.</summary>
    public async Task<ToolResult> RunAsync(IReadOnlyList<string> argv, ReadOnlyMemory<byte>? stdin = null, CancellationToken cancellationToken = default)
    {
        var result = await TryRunAsync(argv, stdin, cancellationToken);
        if (!result.IsSuccess)
        {
            throw new ToolFailedException(argv, result.ExitCode, result.StandardErrorTail);
        }

        return result;
    }

    /// <summary>Runs argv to completion and returns the result whatever the exit code.</summary>
    public async Task<ToolResult> TryRunAsync(IReadOnlyList<string> argv, ReadOnlyMemory<byte>? stdin = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(argv.Count);
        var stdout = new BoundedCapture(MaxCapturedStdout);
        var stderr = new BoundedCapture(TailCapacity, keepTail: true);
        var command = Cli.Wrap(ResolveProgram(argv[0]))
            .WithArguments(argv.Skip(1).ToArray())
            .WithEnvironmentVariables(_environment)
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.Create(stdout.CopyFromAsync))
            .WithStandardErrorPipe(PipeTarget.Create(stderr.CopyFromAsync));
        if (stdin is { } input)
        {
            command = command.WithStandardInputPipe(PipeSource.FromBytes(input));
        }

        try
        {
            var result = await command.ExecuteAsync(cancellationToken);
            return new ToolResult(argv, result.ExitCode, stdout.Text, stderr.Text, result.RunTime);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // CliWrap reports a missing executable as Win32Exception/InvalidOperationException.
            throw new ToolFailedException(argv, -1, ex.Message, ex);
        }
    }

    /// <summary>
    /// Looks a bare program name up in this runner's PATH, if it sets one. .NET's Process.Start
    /// searches the parent's PATH, not the child environment's, so without this a runner built
    /// with a PATH (tests put a fake systemctl first) would silently run the real tool.
    /// </summary>
    private string ResolveProgram(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal) || !_environment.TryGetValue("PATH", out var path) || string.IsNullOrEmpty(path))
        {
            return program;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate) && (File.GetUnixFileMode(candidate) & anyExecute) != 0)
            {
                return candidate;
            }
        }

        return program;
    }

    private sealed class BoundedCapture(int capacity, bool keepTail = false)
    {
        private readonly MemoryStream _buffer = new();

        public string Text => Encoding.UTF8.GetString(_buffer.GetBuffer(), 0, (int)_buffer.Length);

        public async Task CopyFromAsync(Stream source, CancellationToken cancellationToken)
        {
            var chunk = new byte[16384];
            int n;
            while ((n = await source.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (_buffer.Length + n <= capacity)
                {
                    _buffer.Write(chunk, 0, n);
                }
                else if (keepTail)
                {
                    var all = _buffer.ToArray().Concat(chunk.Take(n)).TakeLast(capacity).ToArray();
                    _buffer.SetLength(0);
                    _buffer.Write(all);
                }

                // else: drop what exceeds the capacity but keep draining so the child never blocks.
            }
        }
    }
}

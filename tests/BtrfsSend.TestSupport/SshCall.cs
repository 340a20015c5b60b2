using System.Text;
using CliWrap;

namespace BtrfsSend.TestSupport;

/// <summary>
/// One running <c>ssh ... -- COMMAND</c> client against an <see cref="SshdFixture"/>, with stdin
/// written by a delegate (e.g. a BSF1 stream, possibly cut or trickled) and stdout/stderr
/// captured. <see cref="Kill"/> SIGKILLs exactly this client process, by its PID, as a cut
/// connection would.
/// </summary>
public sealed class SshCall
{
    private readonly CommandTask<CommandResult> _task;

    private SshCall(CommandTask<CommandResult> task, MemoryStream stdout, StringBuilder stderr)
    {
        _task = task;
        Completion = FinishAsync(task, stdout, stderr);
    }

    /// <summary>The ssh client's PID.</summary>
    public int ProcessId => _task.ProcessId;

    /// <summary>Completes when the client exited, whatever its exit code.</summary>
    public Task<SshOutcome> Completion { get; }

    /// <summary>
    /// Starts the client. <paramref name="writeStdin"/> writes its stdin (closed when it returns);
    /// null gives an empty stdin. A write that fails because the client or the remote side is gone
    /// ends stdin quietly: the outcome shows what happened.
    /// </summary>
    public static SshCall Start(SshdFixture sshd, string remoteCommand, Func<Stream, CancellationToken, Task>? writeStdin = null)
    {
        ArgumentNullException.ThrowIfNull(sshd);
        string[] argv = [.. sshd.Launcher, .. sshd.SshArgv(remoteCommand)];
        var stdout = new MemoryStream();
        var stderr = new StringBuilder();
        var task = Cli.Wrap(argv[0])
            .WithArguments(argv.Skip(1))
            .WithStandardInputPipe(writeStdin is null ? PipeSource.Null : PipeSource.Create(writeStdin))
            .WithStandardOutputPipe(PipeTarget.ToStream(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync();
        return new SshCall(task, stdout, stderr);
    }

    /// <summary>Runs the client to its end.</summary>
    public static Task<SshOutcome> RunAsync(SshdFixture sshd, string remoteCommand, Func<Stream, CancellationToken, Task>? writeStdin = null)
        => Start(sshd, remoteCommand, writeStdin).Completion;

    /// <summary>SIGKILLs the ssh client (this PID only); the remote side then sees EOF on its stdin.</summary>
    public void Kill()
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(ProcessId);
            process.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static async Task<SshOutcome> FinishAsync(CommandTask<CommandResult> task, MemoryStream stdout, StringBuilder stderr)
    {
        var result = await task;
        return new SshOutcome(result.ExitCode, stdout.ToArray(), stderr.ToString());
    }
}

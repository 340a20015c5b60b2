using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Transport;

namespace BtrfsSend.Producer.Connection;

/// <summary>
/// Talks to btrfs-backup-receive through <c>ssh ... -- "COMMAND"</c>. Only requests built by
/// the core grammar's records are sent, so what goes over the wire always parses on the other side.
/// </summary>
internal sealed class ReceiverClient(SshArgv ssh, ToolRunner tools)
{
    public SshArgv Ssh { get; } = ssh;

    /// <summary>IDLE_TIMEOUT_SECONDS: how long a short answer (hello, list) or a pause in <c>get</c> data may take.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public async Task<HelloLine> HelloAsync(CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new HelloRequest(), cancellationToken);
        var line = LastLine(result.StandardOutput);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        if (lines > 1)
        {
            throw new PrerequisiteException($"the receiver at {Ssh.Target} answered hello with {lines} lines, btrfs-backup-receive answers one (the last: '{NameText.Printable(line)}'); is its authorized_keys forced command right?");
        }

        var hello = HelloLine.Parse(line);
        if (hello.Value is null)
        {
            throw new PrerequisiteException($"the receiver at {Ssh.Target} did not answer hello as btrfs-backup-receive does ('{NameText.Printable(line)}'); is its authorized_keys forced command right?");
        }

        if (hello.Value.Protocol != HelloLine.CurrentProtocol)
        {
            throw new PrerequisiteException($"the receiver at {Ssh.Target} speaks protocol {hello.Value.Protocol}, this producer speaks {HelloLine.CurrentProtocol}; upgrade one of them");
        }

        return hello.Value;
    }

    public async Task<IReadOnlyList<ListEntryLine>> ListAsync(BackupSet set, CancellationToken cancellationToken = default)
    {
        var result = await RunAsync(new ListRequest(set), cancellationToken);
        return ListAnswer.Parse(result.StandardOutput, set);
    }

    /// <summary>Runs a request without stdin; an ERR line or a failed ssh is an exception.</summary>
    private Task<ToolResult> RunAsync(Request request, CancellationToken cancellationToken)
        => RunAsync(request, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>
    /// Runs a request with <paramref name="stdin"/> (e.g. open-luks's key), giving up after
    /// <see cref="IdleTimeout"/>; an ERR line or a failed ssh is an exception.
    /// </summary>
    public async Task<ToolResult> RunAsync(Request request, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        var argv = Ssh.For(request.ToCommandLine());
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(IdleTimeout);
        ToolResult result;
        try
        {
            result = await tools.TryRunAsync(argv, stdin, cancellationToken: idle.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A stalled receiver (or network) must not hold a cron run forever.
            throw new IdleTimeoutException($"the receiver at {Ssh.Target} did not answer '{request.Verb}' within {IdleTimeout.TotalSeconds:0} seconds (IDLE_TIMEOUT_SECONDS); the request was abandoned; check the backup server");
        }

        ThrowIfFailed(result.ExitCode, result.StandardOutput, result.StandardErrorTail, request);
        return result;
    }

    /// <summary>Maps ssh's and the receiver's failures to the producer's exit codes.</summary>
    public void ThrowIfFailed(int exitCode, string stdout, string stderrTail, Request request)
    {
        var last = LastLine(stdout);
        if (ResponseLine.Parse(last).Value is ErrLine err)
        {
            if (err.Code == ErrorCodes.StoreUnusable)
            {
                throw new PrerequisiteException($"the receiver cannot store backups: {err.Message}; nothing was stopped, snapshotted or sent");
            }

            throw err.Code is ErrorCodes.Truncated or ErrorCodes.BadFrame or ErrorCodes.BadTrailer or ErrorCodes.HashMismatch or ErrorCodes.IoError or ErrorCodes.NoSpace
                ? new TransferFailedException($"the receiver did not store {request.Verb}: {err.Code}: {err.Message}")
                : new RefusedException(err.Code, $"the receiver refused '{request.ToCommandLine()}': {err.Code}: {err.Message}");
        }

        if (exitCode == 255)
        {
            throw new TransferFailedException($"cannot reach the receiver with ssh {Ssh.Target}: {StderrTail.LastLines(stderrTail)}; check BACKUP_SSH_TARGET, the key and the network");
        }

        if (exitCode != 0)
        {
            throw new TransferFailedException($"'{request.Verb}' on the receiver failed with exit code {exitCode}: {StderrTail.LastLines(stderrTail)}");
        }
    }

    public static string LastLine(string text)
        => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
}

using System.Security.Cryptography;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Connection;
using Serilog;

namespace BtrfsSend.Producer.RemoteBtrfs;

/// <summary>
/// One BACKUP_MODE=remote-btrfs run, after BackupRun took the lock and checked prerequisites:
/// hello → open-luks (LUKS_KEY_FILE on ssh's stdin) → list-received → parent choice (the state
/// file's snapshot, if it exists locally and was received) → quiesce + snapshot → send into
/// <c>btrfs receive</c> on the backup server → state file → prune-received → local prune, with
/// close-luks in a <c>finally</c> that runs on failure and on SIGTERM/SIGINT (with
/// <see cref="CancellationToken.None"/>, so the cancelled run still closes the volume).
/// </summary>
internal sealed class RemoteBtrfsRun(ProducerOptions options, ToolRunner tools, ReceiverClient receiver, ILogger log, TimeProvider clock)
{
    /// <summary>The send protocol chosen by the prerequisite checks (SEND_PROTO, SEND_COMPRESSED_DATA).</summary>
    public SendProtocol Protocol { get; init; } = SendProtocol.V1;

    public async Task<int> RunAsync(bool dryRun, CancellationToken cancellationToken = default)
    {
        // Hello opens the run's session: open-luks, list-received, receive, prune-received and close-luks follow on it.
        var hello = await receiver.OpenSessionAsync(log, cancellationToken);
        if (!hello.Supports(HelloLine.RemoteBtrfsMode))
        {
            throw new PrerequisiteException($"the receiver ({hello.Render()}) does not serve remote-btrfs mode; set LUKS_DEVICE, LUKS_NAME, LUKS_MOUNT and RECEIVED_ROOT on the backup server");
        }

        // Before the volume is opened: systemctl must answer for every unit (a prerequisite).
        var quiescer = BackupRun.CreateQuiescer(options, tools, log);
        var plan = await quiescer.PlanAsync(options.ServicesToQuiesce, cancellationToken);
        var snapshots = new LocalSnapshots(options.SnapshotDirPath, options.SnapshotPrefix, tools);
        var state = new StateFile(options.StateFilePath);
        var previous = state.Read();
        var snapshot = SnapshotName.Create(options.SnapshotPrefix, clock.GetUtcNow());
        ClockCheck.RequireAfter(previous, snapshot);
        if (dryRun)
        {
            Console.Out.WriteLine("dry run: the LUKS volume is not opened; nothing is stopped, snapshotted, sent or deleted");
            Console.Out.WriteLine($"  services: {plan.Render()}");
            Console.Out.WriteLine($"  open:     {Argv.Render(receiver.Ssh.For(new OpenLuksRequest().ToCommandLine()))} < LUKS_KEY_FILE");
            Console.Out.WriteLine($"  snapshot: {Argv.Render(BtrfsArgv.SnapshotReadOnly(Prerequisites.SourcePath(options), snapshots.PathOf(snapshot)))}");
            Console.Out.WriteLine($"  parent:   {previous?.Value ?? "none (full)"} if it exists locally and was received");
            Console.Out.WriteLine($"  close:    {Argv.Render(receiver.Ssh.For(new CloseLuksRequest().ToCommandLine()))} (always)");
            return 0;
        }

        var client = new RemoteBtrfsClient(receiver);
        var key = ReadKey(options.LuksKeyFilePath ?? throw new ConfigException("LUKS_KEY_FILE is required in BACKUP_MODE=remote-btrfs"));
        try
        {
            await client.OpenLuksAsync(key, cancellationToken);
        }
        catch (Exception ex) when (ex is not RefusedException { Code: ErrorCodes.Busy })
        {
            // A half-open volume (luksOpen done, mount failed, connection lost) must not stay open.
            // Not after "busy": then another request holds the volume and the session is not ours.
            await CloseAsync(client, afterFailure: true);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        log.Information("{Set}: LUKS volume on the backup server opened", options.BackupSet);
        var succeeded = false;
        try
        {
            await BackupAsync(client, quiescer, plan, snapshots, state, previous, snapshot, cancellationToken);
            succeeded = true;
        }
        finally
        {
            await CloseAsync(client, afterFailure: !succeeded);
        }

        await receiver.EndSessionAsync();
        return 0;
    }

    private async Task BackupAsync(RemoteBtrfsClient client, Quiescer quiescer, QuiescePlan plan, LocalSnapshots snapshots, StateFile state, SnapshotName? previous, SnapshotName snapshot, CancellationToken cancellationToken)
    {
        var received = await client.ListReceivedAsync(options.BackupSet, cancellationToken);
        var local = snapshots.List();
        SnapshotName? parent = null;
        string reason;
        if (previous is null)
        {
            reason = "full: no previous snapshot was acknowledged (STATE_FILE missing or empty)";
        }
        else if (!local.Contains(previous))
        {
            reason = $"full: the last acknowledged snapshot {previous} no longer exists locally";
        }
        else if (!received.Any(e => e.Snapshot == previous))
        {
            reason = $"full: the receiver has not received {previous}";
        }
        else
        {
            parent = previous;
            reason = $"incremental against {previous}";
        }

        log.Information("{Set}: {Decision}", options.BackupSet, reason);
        if (local.Contains(snapshot))
        {
            throw new ConfigException($"snapshot {snapshot} already exists locally (two runs in the same second?); try again");
        }

        var canaryToken = BackupRun.WriteCanary(options, Prerequisites.SourcePath(options), snapshot, log);
        try
        {
            await quiescer.RunQuiescedAsync(plan, options.PreSnapshotHook, options.PostSnapshotHook,
                async () =>
                {
                    await snapshots.CreateAsync(Prerequisites.SourcePath(options), snapshot, cancellationToken);
                    return true;
                },
                cancellationToken);
        }
        catch when (snapshots.List().Contains(snapshot))
        {
            await TryDeleteAsync(snapshots, snapshot);
            throw;
        }

        SendResult result;
        try
        {
            // No manifest in this mode: the receiver accepts the declaration and records nothing; the canary is inside the received snapshot.
            var request = new ReceiveRequest(options.BackupSet, snapshot, parent) { Declared = new StreamDeclaration { SendProto = Protocol.Version, CanaryToken = canaryToken } };
            var sendArgv = BtrfsArgv.Send(snapshots.PathOf(snapshot), parent is null ? null : snapshots.PathOf(parent), Protocol);
            // list-received gives no sizes: the estimate is this configuration's record of its last stream of the kind.
            using var progress = PreviousStreamSize.Progress(options.BackupSet, received, parent is not null, Core.Manifests.StreamCompression.None, LastStreamSizes.Of(state), log);
            result = await new SendPipeline(receiver, log) { BandwidthLimit = options.BandwidthLimit }.RunAsync(sendArgv, request, keys: null, progress: progress, cancellationToken: cancellationToken);
        }
        catch
        {
            log.Warning("deleting the new snapshot {Snapshot}: its receive did not complete, the next run takes a fresh one", snapshot);
            await TryDeleteAsync(snapshots, snapshot);
            throw;
        }

        state.Write(snapshot);
        LastStreamSizes.Of(state).TryWrite(parent is not null, result.PlaintextBytes, log);
        ConsoleVerbosity.Summary(log).Information("backup OK: set {Set} {Kind} {Snapshot}{Parent} received by btrfs receive on the backup server, {Bytes} bytes in {Seconds:F1} s, sha256 {Sha}",
            options.BackupSet, parent is null ? "full" : "incremental", snapshot, parent is null ? "" : $" (parent {parent})",
            result.PlaintextBytes, result.Duration.TotalSeconds, result.StoredSha256);
        await client.PruneReceivedAsync(options.BackupSet, cancellationToken);
        await new LocalPruner(snapshots, options.LocalKeep, log).PruneAsync(snapshot, clock.GetUtcNow());
    }

    /// <summary>close-luks, never cancelled. After a failure its own error is logged, not thrown, so the first cause stays the reported one.</summary>
    private async Task CloseAsync(RemoteBtrfsClient client, bool afterFailure)
    {
        try
        {
            await client.CloseLuksAsync(CancellationToken.None);
            log.Information("{Set}: LUKS volume on the backup server closed", options.BackupSet);
        }
        catch (BtrfsSendException ex) when (afterFailure)
        {
            log.Error("could not close the LUKS volume on the backup server: {Message}; its close-stale cron closes it after LUKS_LEASE", ex.Message);
        }
        catch (BtrfsSendException ex)
        {
            throw new TransferFailedException($"the backup was received, but closing the LUKS volume failed: {ex.Message}; its close-stale cron closes it after LUKS_LEASE", ex);
        }
    }

    private static byte[] ReadKey(string keyFilePath)
    {
        var info = new FileInfo(keyFilePath);
        if (!info.Exists || info.Length is 0 or > OpenLuksRequest.MaxKeyBytes)
        {
            throw new ConfigException($"LUKS_KEY_FILE {keyFilePath} must exist and hold 1 to {OpenLuksRequest.MaxKeyBytes} bytes");
        }

        return File.ReadAllBytes(keyFilePath);
    }

    private async Task TryDeleteAsync(LocalSnapshots snapshots, SnapshotName snapshot)
    {
        try
        {
            await snapshots.DeleteAsync(snapshot);
        }
        catch (ToolFailedException ex)
        {
            log.Error("could not delete the unsent snapshot {Snapshot}: {Message}; delete it by hand", snapshot, ex.Message);
        }
    }
}

using BtrfsSend.Core.Binding;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Hosting;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using BtrfsSend.Producer.Connection;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// One backup run (btrfs-send-backup(8), "run"), each step delegated: lock → prerequisites and receiver hello →
/// parent choice → quiesce + snapshot → send pipeline → state file → local prune. Nothing that
/// failed is recorded as done: the state file changes only after a matching OK, and the new
/// snapshot of a failed send is deleted (the next run takes a fresh one).
/// </summary>
internal sealed class BackupRun(ProducerOptions options, ToolRunner tools, ReceiverClient receiver, ILogger log, TimeProvider clock)
{
    /// <summary>
    /// The remote-btrfs mode, run once the lock is held and the prerequisites passed (with the send
    /// protocol they found). Producer/RemoteBtrfs builds on this room, so the command hands it in.
    /// </summary>
    public Func<SendProtocol, bool, CancellationToken, Task<int>>? RemoteBtrfsMode { get; init; }

    public async Task<int> RunAsync(bool dryRun, CancellationToken cancellationToken = default)
    {
        var phases = new RunPhases();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.LockFilePath))!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var runLock = DirectoryLock.Acquire(options.LockFilePath, $"the backup of {options.BackupSet}");

        var checks = new Prerequisites(tools).CheckAsync(options, cancellationToken);
        if (options.Mode == BackupMode.RemoteBtrfs)
        {
            var remoteProtocol = await checks;
            var remoteBtrfs = RemoteBtrfsMode ?? throw new InvalidOperationException("BACKUP_MODE=remote-btrfs needs the remote-btrfs run, which the run command hands in");
            return await remoteBtrfs(remoteProtocol, dryRun, cancellationToken);
        }

        var ledger = new UploadLedger(options.LedgerFilePath);
        var keys = await OpenLedgerAndKeysAsync(ledger, checks);
        var (protocol, remote) = await GreetReceiverAsync(checks, cancellationToken);

        // systemctl must answer for every unit before anything is touched (also in a dry run).
        var quiescer = CreateQuiescer(options, tools, log);
        var plan = await quiescer.PlanAsync(options.ServicesToQuiesce, cancellationToken);
        phases.Done("lock+prerequisites+hello+list+services");
        var snapshots = new LocalSnapshots(options.SnapshotDirPath, options.SnapshotPrefix, tools);
        var state = new StateFile(options.StateFilePath);
        var previous = state.Read();
        var now = clock.GetUtcNow();
        var decision = ParentChooser.Choose(previous, snapshots.List().Select(s => s.Value).ToHashSet(StringComparer.Ordinal), remote, options.FullIntervalDays, now);
        log.Information("{Set}: {Decision}", options.BackupSet, decision.Reason);

        var snapshot = SnapshotName.Create(options.SnapshotPrefix, now);
        ClockCheck.RequireAfter(previous, snapshot);
        var source = Prerequisites.SourcePath(options);
        if (dryRun)
        {
            PrintDryRun(snapshots, snapshot, source, decision, previous, now, plan, protocol);
            return 0;
        }

        if (snapshots.List().Contains(snapshot))
        {
            throw new ConfigException($"snapshot {snapshot} already exists locally (two runs in the same second?); try again");
        }

        // Before the quiesce window, so the services' stop window does not grow.
        var canaryToken = WriteCanary(options, source, snapshot, log);
        await SnapshotQuiescedAsync(quiescer, plan, snapshots, source, snapshot, cancellationToken);
        phases.Done("snapshot");
        var result = await SendAsync(state, snapshots, snapshot, decision, protocol, keys, canaryToken, remote, cancellationToken);
        phases.Done("send");
        Record(ledger, state, snapshot, decision, protocol, result);
        await new LocalPruner(snapshots, options.LocalKeep, log).PruneAsync(snapshot, clock.GetUtcNow());
        phases.Done("state+local prune");
        log.Information("run phases: {Phases}", phases.Render());
        return 0;
    }

    /// <summary>
    /// Checks that the ledger can take the record and reads the encryption keys, before anything
    /// is stopped or sent; a failed prerequisite (<paramref name="checks"/>) is reported first, as
    /// when the checks ran alone.
    /// </summary>
    private async Task<EncryptionKeys> OpenLedgerAndKeysAsync(UploadLedger ledger, Task<SendProtocol> checks)
    {
        try
        {
            ledger.CheckUsable();
            return options.RecipientKeyFilePath is { } recipient
                ? EncryptionKeys.FromPublicKeyFile(recipient).WithSigner(SigningKey.FromFile(options.SigningKeyFilePath ?? throw new ConfigException("SIGNING_KEY_FILE is required with RECIPIENT_KEY_FILE")))
                : EncryptionKeys.FromPassphraseFile(options.PassphraseFilePath ?? throw new ConfigException("PASSPHRASE_FILE or RECIPIENT_KEY_FILE is required in encrypted-stream mode"));
        }
        catch
        {
            await checks;
            throw;
        }
    }

    /// <summary>
    /// The local checks and the receiver's hello and list (read-only there) at once: each ssh
    /// connection pays sshd + sudo + receiver start-up. Failures are reported in the order the
    /// steps had when they ran one after the other: prerequisites, then hello, then list.
    /// </summary>
    private async Task<(SendProtocol Protocol, IReadOnlyList<ListEntryLine> Remote)> GreetReceiverAsync(Task<SendProtocol> checks, CancellationToken cancellationToken)
    {
        // Hello opens the run's session, which carries list and the upload too (docs/protocol.md,
        // "Sessions"); the local checks run meanwhile.
        var greeting = receiver.OpenSessionAsync(log, cancellationToken);
        var listing = receiver.ListAsync(options.BackupSet, cancellationToken);
        SendProtocol protocol;
        try
        {
            protocol = await checks;
            var hello = await greeting;
            if (!hello.Supports(HelloLine.EncryptedStreamMode))
            {
                throw new PrerequisiteException($"the receiver ({hello.Render()}) does not serve encrypted-stream mode (a receiver that serves remote-btrfs leaves it out while its BACKUP_ROOT is unusable: see its check)");
            }
        }
        catch
        {
            // Let both ssh connections end before reporting; their own failures are secondary.
            await Task.WhenAll(greeting, listing).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }

        return (protocol, await listing);
    }

    /// <summary>Takes <paramref name="snapshot"/> inside the quiesce window; deletes it again when the run stops there.</summary>
    private async Task SnapshotQuiescedAsync(Quiescer quiescer, QuiescePlan plan, LocalSnapshots snapshots, string source, SnapshotName snapshot, CancellationToken cancellationToken)
    {
        try
        {
            await quiescer.RunQuiescedAsync(plan, options.PreSnapshotHook, options.PostSnapshotHook,
                async () =>
                {
                    await snapshots.CreateAsync(source, snapshot, cancellationToken);
                    return true;
                },
                cancellationToken);
        }
        catch when (snapshots.List().Contains(snapshot))
        {
            // E.g. a service could not be restarted after a good snapshot: the run stops here
            // (exit 7), and an unsent snapshot must not linger unrecorded.
            log.Warning("deleting the new snapshot {Snapshot}: the run stopped before sending it", snapshot);
            await TryDeleteAsync(snapshots, snapshot);
            throw;
        }
    }

    /// <summary>Sends <paramref name="snapshot"/> through the send pipeline; deletes it when the send did not complete.</summary>
    private async Task<SendResult> SendAsync(
        StateFile state, LocalSnapshots snapshots, SnapshotName snapshot, ParentDecision decision, SendProtocol protocol, EncryptionKeys keys, string? canaryToken, IReadOnlyList<ListEntryLine> remote, CancellationToken cancellationToken)
    {
        try
        {
            var snapshotUuid = snapshots.UuidAsync(snapshot, cancellationToken);
            var parentUuid = decision.Parent is { } p ? snapshots.UuidAsync(p, cancellationToken) : Task.FromResult<string?>(null);
            var declared = new StreamDeclaration
            {
                SnapshotUuid = await snapshotUuid,
                ParentUuid = await parentUuid,
                SendProto = protocol.Version,
                ProducerVersion = VersionToken(),
                Compression = options.Compression,
                CanaryToken = canaryToken,
            };
            var binding = StreamBinding.Create(
                options.BackupSet, snapshot, decision.Parent,
                declared.SnapshotUuid ?? throw new IntegrityException($"btrfs subvolume show does not give the UUID of {snapshot}; it is bound into the stream"),
                decision.Parent is null ? null : declared.ParentUuid ?? throw new IntegrityException($"btrfs subvolume show does not give the UUID of parent {decision.Parent}; it is bound into the stream"),
                declared.SendProto, options.Compression);
            var request = new ReceiveStreamRequest(options.BackupSet, snapshot, decision.IsIncremental, decision.Parent)
            {
                Declared = declared,
            };
            var sendArgv = BtrfsArgv.Send(snapshots.PathOf(snapshot), decision.Parent is { } parent ? snapshots.PathOf(parent) : null, protocol);
            using var progress = PreviousStreamSize.Progress(options.BackupSet, remote, decision.IsIncremental, options.Compression, LastStreamSizes.Of(state), log);
            var result = await new SendPipeline(receiver, log) { BandwidthLimit = options.BandwidthLimit }.RunAsync(sendArgv, request, keys, options.Compression, progress, cancellationToken, binding);

            // The session ends cleanly, or the answer was not as it seemed: then nothing is recorded.
            await receiver.EndSessionAsync();
            return result;
        }
        catch
        {
            log.Warning("deleting the new snapshot {Snapshot}: its send did not complete, the next run takes a fresh one", snapshot);
            await TryDeleteAsync(snapshots, snapshot);
            throw;
        }
    }

    /// <summary>
    /// Records the acknowledged upload: the ledger first (a crash between the two leaves an
    /// acknowledged upload recorded and STATE_FILE behind, so the next run only sends again), then
    /// STATE_FILE, then the run's one summary line.
    /// </summary>
    private void Record(UploadLedger ledger, StateFile state, SnapshotName snapshot, ParentDecision decision, SendProtocol protocol, SendResult result)
    {
        try
        {
            ledger.Append(new LedgerRecord(clock.GetUtcNow().UtcDateTime, options.BackupSet, snapshot,
                decision.IsIncremental ? StreamKind.Incremental : StreamKind.Full, decision.Parent, result.StoredBytes, result.StoredSha256));
        }
        catch (BtrfsSendException ex)
        {
            throw new StorageException($"the receiver stored {snapshot}, but the upload could not be recorded: {ex.Message}; STATE_FILE is unchanged, so the next run sends again", ex);
        }

        state.Write(snapshot);
        LastStreamSizes.Of(state).TryWrite(decision.IsIncremental, result.PlaintextBytes, log);
        ConsoleVerbosity.Summary(log).Information(
            "backup OK: set {Set} {Kind} {Snapshot}{Parent}, {Plain} bytes ({Proto}) sent as {Stored} encrypted bytes in {Seconds:F1} s ({Rate:F1} MiB/s), sha256 {Sha}",
            options.BackupSet, decision.IsIncremental ? "incremental" : "full", snapshot,
            decision.Parent is null ? "" : $" (parent {decision.Parent})", result.PlaintextBytes, protocol.Describe(), result.StoredBytes,
            result.Duration.TotalSeconds, result.PlaintextBytes / 1048576.0 / Math.Max(result.Duration.TotalSeconds, 1e-3), result.StoredSha256);
    }

    /// <summary>Writes CANARY_FILE (when set) into the source for <paramref name="snapshot"/>; returns its token, or null.</summary>
    internal static string? WriteCanary(ProducerOptions options, string sourceDirPath, SnapshotName snapshot, ILogger log)
    {
        if (options.CanaryFilePath is not { } relative)
        {
            return null;
        }

        var canary = new CanaryFile(sourceDirPath, relative);
        var token = canary.Write(snapshot);
        log.Information("{Set}: canary for {Snapshot} written to {Path}", options.BackupSet, snapshot, canary.FilePath);
        return token;
    }

    /// <summary>The quiescer for this config (SERVICES_MAY_RUN).</summary>
    internal static Quiescer CreateQuiescer(ProducerOptions options, ToolRunner tools, ILogger log)
        => new(tools, log)
        {
            MayRun = options.ServicesMayRun.ToHashSet(StringComparer.Ordinal),
            Timeout = TimeSpan.FromSeconds(options.QuiesceTimeoutSeconds),
            StartGuard = timeout => QuiesceGuardProcess.Start(timeout, log),
        };

    private void PrintDryRun(LocalSnapshots snapshots, SnapshotName snapshot, string source, ParentDecision decision, SnapshotName? previous, DateTimeOffset now, QuiescePlan plan, SendProtocol protocol)
    {
        var request = new ReceiveStreamRequest(options.BackupSet, snapshot, decision.IsIncremental, decision.Parent);
        Console.Out.WriteLine($"dry run: nothing is stopped, snapshotted, sent or deleted");
        Console.Out.WriteLine($"  services:  {plan.Render()}");
        Console.Out.WriteLine($"  snapshot:  {Argv.Render(BtrfsArgv.SnapshotReadOnly(source, snapshots.PathOf(snapshot)))}");
        Console.Out.WriteLine($"  decision:  {decision.Reason}");
        Console.Out.WriteLine($"  send:      {Argv.Render(BtrfsArgv.Send(snapshots.PathOf(snapshot), decision.Parent is { } p ? snapshots.PathOf(p) : null, protocol))} ({protocol.Describe()})");
        if (options.Compression == StreamCompression.Zstd)
        {
            Console.Out.WriteLine($"  compress:  {Argv.Render(SendPipeline.ZstdArgv)} (before encryption)");
        }

        Console.Out.WriteLine($"  encrypt:   OpenPGP {(options.RecipientKeyFilePath is null ? "AES-256 with PASSPHRASE_FILE " + options.PassphraseFilePath : "to RECIPIENT_KEY_FILE " + options.RecipientKeyFilePath)}");
        Console.Out.WriteLine($"  transfer:  {Argv.Render(receiver.Ssh.For(request.ToCommandLine()))}");
        Console.Out.WriteLine($"  state:     {options.StateFilePath} ({previous?.Value ?? "empty"} -> {snapshot} on OK)");
        Console.Out.WriteLine($"  local keep: {(options.LocalKeep.IsEmpty ? "LOCAL_KEEP_* empty: no local snapshot is deleted" : "LOCAL_KEEP_* applied after a successful send")} (now {now:yyyy-MM-ddTHH:mm:ssZ})");
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

    private static string VersionToken()
    {
        var v = ProgramVersion.Current;
        var clean = new string(v.Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-').ToArray());
        return clean.Length is > 0 and <= 64 ? clean : clean.Length > 64 ? clean[..64] : "0.0.0";
    }
}

using System.Diagnostics;
using System.Globalization;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// <c>verify --restore-test --scratch DIR</c>: restores a snapshot's whole chain (with
/// <see cref="ChainRestorer"/>, every check included) into a fresh subdirectory of a scratch
/// btrfs, compares the CANARY_FILE inside the restored snapshot with the manifest's
/// <c>canary_token</c> (over ssh: the <c>canary=</c> of the receiver's list line), and deletes every subvolume it created (newest first) and the
/// subdirectory — also after a failure or SIGTERM/SIGINT. Prints one monitoring line; returns
/// the Nagios code (<see cref="DrillOutcome"/>).
/// </summary>
internal sealed class RestoreDrill(IRestoreSource source, KeyFiles keyFiles, ToolRunner tools, string canaryRelativePath, ILogger log)
{
    /// <summary>
    /// LEDGER_FILE, when the default (newest) snapshot must not be older than the newest acknowledged
    /// upload (<see cref="RollbackGuard"/>); null with <c>--allow-rollback</c> or without a configuration.
    /// </summary>
    public string? RollbackLedgerFilePath { get; init; }

    /// <summary>Where the restored snapshot's canary is looked for when neither --canary-file nor the config's CANARY_FILE says.</summary>
    public const string DefaultCanaryFile = ".btrfs-send-canary";

    private const string SubdirPrefix = "btrfs-send-restore-test-";

    public async Task<int> RunAsync(BackupSet set, SnapshotName? snapshot, string scratchDirPath, TextWriter output, CancellationToken cancellationToken = default)
    {
        var (outcome, line) = await TestAsync(set, snapshot, scratchDirPath, cancellationToken);
        await output.WriteLineAsync($"{DrillOutcomeText.Of(outcome)}: {line}");
        return (int)outcome;
    }

    private async Task<(DrillOutcome Outcome, string Line)> TestAsync(BackupSet set, SnapshotName? snapshot, string scratchDirPath, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var scratch = new TargetDirectory(scratchDirPath, tools, "--scratch");
        IReadOnlyList<RestoreLink> chain;
        try
        {
            await scratch.RequireUsableAsync(cancellationToken);
            var stored = await source.ListAsync(cancellationToken);
            if (stored.Count == 0)
            {
                return (DrillOutcome.Critical, $"restore test of {set}: no stored streams at {source.Description}");
            }

            if (snapshot is null && RollbackLedgerFilePath is { } ledgerPath && new UploadLedger(ledgerPath).Exists)
            {
                RollbackGuard.Check(set, stored, new UploadLedger(ledgerPath).Read(), ledgerPath, source.Description,
                    command: null, refused: "nothing was tested; to test the older one anyway");
            }

            chain = RestorePlan.ChainOf(stored, snapshot, set, source.Description);
        }
        catch (IntegrityException ex)
        {
            return (DrillOutcome.Critical, $"restore test of {set}: {ex.Message}");
        }
        catch (BtrfsSendException ex)
        {
            return (DrillOutcome.Unknown, $"restore test of {set} could not start: {ex.Message}");
        }

        var target = chain[^1];
        var what = $"{set}/{target.Snapshot}";
        ScratchArea area;
        try
        {
            area = ScratchArea.Create(scratch.DirPath, SubdirPrefix, tools);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (DrillOutcome.Unknown, $"restore test of {what} could not start: cannot create a subdirectory of {NameText.Printable(scratch.DirPath)}: {ex.Message}");
        }

        (DrillOutcome, string) result;
        try
        {
            result = await RestoreAndCompareAsync(set, target, chain, what, area.DirPath, started, cancellationToken);
        }
        finally
        {
            var leftovers = await area.CleanUpAsync(chain);
            if (leftovers is not null)
            {
                log.Error("restore test: {Leftovers}", leftovers);
            }
        }

        return result;
    }

    private async Task<(DrillOutcome, string)> RestoreAndCompareAsync(
        BackupSet set, RestoreLink target, IReadOnlyList<RestoreLink> chain, string what, string subdirPath, long started, CancellationToken cancellationToken)
    {
        try
        {
            var restorer = new ChainRestorer(source, new TargetDirectory(subdirPath, tools, "--scratch"), keyFiles, log);
            await restorer.RunAsync(set, target.Snapshot, dryRun: false, TextWriter.Null, cancellationToken);
        }
        catch (Exception ex) when (ex is ConfigException or PrerequisiteException)
        {
            return (DrillOutcome.Unknown, $"restore test of {what} could not run: {ex.Message}");
        }
        catch (BtrfsSendException ex)
        {
            return (DrillOutcome.Critical, $"restore test of {what} FAILED: {ex.Message}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug, not a verdict on the backup: monitoring must still get 0..3.
            log.Error(ex, "restore test of {What}: internal error", what);
            return (DrillOutcome.Unknown, $"restore test of {what} stopped on an internal error: {NameText.Printable(ex.Message)}");
        }

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var size = ConsoleProgress.HumanBytes(chain.Sum(l => l.Bytes));
        var summary = string.Create(CultureInfo.InvariantCulture, $"{chain.Count} links, {size}");
        var expected = target.CanaryToken;
        var (text, problem) = CanaryFile.TryRead(Path.Combine(subdirPath, target.Snapshot.Value), canaryRelativePath);
        var canary = text is null ? null : CanaryFile.TryParse(text);
        if (expected is null)
        {
            var why = target.Manifest is null
                ? $"no canary recorded for this snapshot (CANARY_FILE unset when it was made, or the receiver at {source.Description} is too old to list canary=)"
                : "no canary recorded for this snapshot (CANARY_FILE unset when it was made)";
            return (DrillOutcome.Warning, string.Create(CultureInfo.InvariantCulture, $"restore test of {what} ({summary}) restored in {seconds:F1} s, but {why}"));
        }

        if (text is null)
        {
            return (DrillOutcome.Critical, $"restore test of {what} ({summary}) restored, but the canary is not there: {problem} (the manifest records canary_token {expected})");
        }

        if (canary is not { } found)
        {
            return (DrillOutcome.Critical, $"restore test of {what} ({summary}) restored, but {canaryRelativePath} in it is not a btrfs-send-backup canary");
        }

        if (!string.Equals(found.Snapshot, target.Snapshot.Value, StringComparison.Ordinal))
        {
            return (DrillOutcome.Critical, $"restore test of {what} ({summary}) restored, but its canary names snapshot {NameText.Printable(found.Snapshot)}: the restored data is not what was snapshotted as {target.Snapshot}");
        }

        if (!string.Equals(found.Token, expected, StringComparison.Ordinal))
        {
            return (DrillOutcome.Critical, $"restore test of {what} ({summary}) restored, but its canary token does not match the manifest's canary_token: the restored data is not the snapshot the producer recorded");
        }

        return (DrillOutcome.Ok, string.Create(CultureInfo.InvariantCulture, $"restore test of {what} ({summary}) restored and canary matched in {seconds:F1} s"));
    }
}

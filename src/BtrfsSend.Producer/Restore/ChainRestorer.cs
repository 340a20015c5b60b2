using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Backup;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// <c>restore</c>: resolves the chain, refuses a broken one naming the missing link, skips links
/// the target already holds (so an interrupted restore resumes), and receives the rest in order.
/// A link counts as restored only when its bytes, MDC and send stream checked out, btrfs receive
/// exited 0 and the new subvolume is read-only with a received_uuid (the manifest's
/// snapshot_uuid when known). A failed link's subvolume is deleted; earlier links are kept.
/// </summary>
internal sealed class ChainRestorer(IRestoreSource source, TargetDirectory target, KeyFiles keyFiles, ILogger log)
{
    public async Task<int> RunAsync(BackupSet set, SnapshotName? snapshot, bool dryRun, TextWriter output, CancellationToken cancellationToken = default)
    {
        var stored = await source.ListAsync(cancellationToken);
        var chain = RestorePlan.ChainOf(stored, snapshot, set, source.Description);
        if (!dryRun || Directory.Exists(target.DirPath))
        {
            await target.RequireUsableAsync(cancellationToken);
        }

        var states = new List<TargetLinkState>();
        foreach (var link in chain)
        {
            states.Add(Directory.Exists(target.DirPath)
                ? await target.InspectAsync(link, cancellationToken)
                : new TargetLinkState(TargetLinkKind.Absent, "not there yet"));
        }

        if (dryRun)
        {
            await output.WriteAsync(RestoreText.Plan(set, source, chain, states, target.DirPath, keyFiles));
            return 0;
        }

        var conflict = chain.Zip(states).FirstOrDefault(p => p.Second.Kind == TargetLinkKind.Conflict);
        if (conflict.First is not null)
        {
            throw new RefusedException("exists", $"cannot restore {conflict.First.Snapshot}: {conflict.Second.Detail}; nothing was received");
        }

        var keys = keyFiles.Load();
        var received = 0;
        var unbound = 0;
        string? previousUuid = null;
        for (var i = 0; i < chain.Count; i++)
        {
            var link = chain[i];
            var which = $"link {i + 1}/{chain.Count} {link.Snapshot} ({(link.IsIncremental ? "incremental" : "full")})";
            if (states[i].Kind == TargetLinkKind.Present)
            {
                log.Information("{Link}: {Detail}; skipped", which, states[i].Detail);
                previousUuid = (await target.TryShowAsync(target.PathOf(link), cancellationToken))?.ReceivedUuid;
                continue;
            }

            var result = await ReceiveLinkAsync(link, which, i, keys, keyFiles.ChecksFor(set, i == 0 ? null : previousUuid), cancellationToken);
            previousUuid = result.Binding?.SnapshotUuid;
            unbound += result.Binding is null ? 1 : 0;
            received++;
        }

        if (unbound > 0)
        {
            log.Warning("{Count} link(s) were unbound (no set/snapshot binding) and were received because of --allow-unbound", unbound);
        }

        await output.WriteLineAsync($"restored {set} {chain[^1].Snapshot} into {target.DirPath}: {received} link(s) received, {chain.Count - received} already there");
        return 0;
    }

    private async Task<LinkResult> ReceiveLinkAsync(RestoreLink link, string which, int kept, Core.Crypto.DecryptionKeys keys, LinkChecks checks, CancellationToken cancellationToken)
    {
        try
        {
            await source.PreverifyAsync(link, null, cancellationToken);
        }
        catch (BtrfsSendException ex)
        {
            throw new RestoreLinkException($"{which}: {ex.Message}; nothing of it was received{KeptText(kept)}", ex);
        }

        // One read: the SHA-256 is checked while the stream is decrypted, before btrfs receive sees END.
        log.Information("{Link}: decrypting{Hashing} and receiving into {Dir}", which, source.HasManifests ? ", checking its SHA-256" : "", target.DirPath);
        var before = target.Entries();
        try
        {
            LinkResult result;
            using (var progress = new ConsoleProgress(link.Bytes))
            {
                result = await LinkPipeline.RunAsync(source, link, keys, checks, target.DirPath, progress, cancellationToken);
            }

            var path = target.PathOf(link);
            var state = await target.TryShowAsync(path, cancellationToken);
            if (state is not { IsCompleteReceive: true })
            {
                throw new IntegrityException($"btrfs receive exited 0 but {path} is not a read-only subvolume with a received_uuid");
            }

            if (link.SnapshotUuid is { } expected && !string.Equals(expected, state.ReceivedUuid, StringComparison.OrdinalIgnoreCase))
            {
                throw new IntegrityException($"{path} was received from subvolume {state.ReceivedUuid}, but the manifest declares snapshot_uuid {expected}");
            }

            if (result.Binding is { } binding && !string.Equals(binding.SnapshotUuid, state.ReceivedUuid, StringComparison.OrdinalIgnoreCase))
            {
                throw new IntegrityException($"{path} was received from subvolume {state.ReceivedUuid}, but the stream is bound to snapshot UUID {binding.SnapshotUuid}");
            }

            log.Information("{Link}: received ({Plain} bytes of send stream, {Commands} commands); {Path} is read-only, received_uuid {Uuid}",
                which, result.PlaintextBytes, result.Commands, path, state.ReceivedUuid);
            return result;
        }
        catch (Exception ex)
        {
            var deleted = await target.DeleteNewSubvolumesAsync(before, CancellationToken.None);
            var cleanup = deleted.Count == 0 ? "nothing of it is left in the target" : $"deleted what it left behind ({string.Join(", ", deleted)})";
            if (ex is BtrfsSendException failure)
            {
                throw new RestoreLinkException($"{which} failed: {failure.Message}; {cleanup}{KeptText(kept)}", failure);
            }

            log.Warning("{Link}: stopped; {Cleanup}", which, cleanup);
            throw;
        }
    }

    private static string KeptText(int kept) => kept == 0
        ? ""
        : $"; the {kept} link(s) before it are kept, so running restore again resumes here";
}

using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Backup;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// <c>verify</c>: every selected stream decrypted (MDC) and validated (structure, CRC32C of every
/// command, END) with the plaintext going nowhere, one OK/FAIL line each on stdout. Proves the
/// key opens the streams and the data is intact without a spare filesystem.
/// </summary>
internal sealed class ChainVerifier(IRestoreSource source, KeyFiles keyFiles, ILogger log)
{
    /// <summary>Returns 0 when every stream is OK, else the exit code of the first failure.</summary>
    public async Task<int> RunAsync(BackupSet set, SnapshotName? snapshot, bool all, TextWriter output, CancellationToken cancellationToken = default)
    {
        var stored = await source.ListAsync(cancellationToken);
        var failures = new List<ExitCode>();
        IReadOnlyList<RestoreLink> selected;
        if (all)
        {
            selected = stored.OrderBy(l => l.Snapshot.Value, StringComparer.Ordinal).ToList();
            foreach (var broken in RestorePlan.Restorable(stored).Where(s => !s.IsRestorable))
            {
                await output.WriteLineAsync(RestoreText.VerifyFail(broken.Link.Snapshot.Value, $"not restorable: {broken.BrokenReason}"));
                failures.Add(ExitCode.IntegrityFailed);
            }
        }
        else
        {
            selected = RestorePlan.ChainOf(stored, snapshot, set, source.Description);
        }

        var keys = keyFiles.Load();
        var ok = 0;
        var results = new List<LinkResult>();
        var uuids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var link in selected)
        {
            try
            {
                using var progress = new ConsoleProgress(link.Bytes);
                await source.PreverifyAsync(link, progress, cancellationToken);
                var parentUuid = link.Parent is { } parent && uuids.TryGetValue(parent.Value, out var known) ? known : null;
                var result = await LinkPipeline.RunAsync(source, link, keys, keyFiles.ChecksFor(set, parentUuid), null, progress, cancellationToken);
                if (result.Binding is { } binding)
                {
                    uuids[link.Snapshot.Value] = binding.SnapshotUuid;
                }

                await output.WriteLineAsync(RestoreText.VerifyOk(result));
                results.Add(result);
                ok++;
            }
            catch (BtrfsSendException ex)
            {
                await output.WriteLineAsync(RestoreText.VerifyFail(link.Snapshot.Value, ex.Message));
                failures.Add(ex.ExitCode);
            }
        }

        foreach (var line in CheckLinks(results))
        {
            await output.WriteLineAsync(line);
            if (line.StartsWith("FAIL", StringComparison.Ordinal))
            {
                failures.Add(ExitCode.IntegrityFailed);
            }
        }

        log.Information("verify {Set}: {Ok} of {Total} stream(s) OK at {Source}", set, ok, selected.Count, source.Description);
        return failures.Count == 0 ? 0 : (int)failures[0];
    }

    /// <summary>
    /// The chain proven by the streams' own UUIDs, not by the names in the manifests: an
    /// incremental's parent UUID (clone_uuid of its SNAPSHOT command) must be the UUID of the
    /// subvolume its parent's stream creates, and a stream stored as full must not be an
    /// incremental. One FAIL line per link that does not match; a PROVEN line for every parent that
    /// <c>adopt</c> inferred and that matches.
    /// </summary>
    internal static IEnumerable<string> CheckLinks(IReadOnlyList<LinkResult> results)
    {
        var byName = results.ToDictionary(r => r.Link.Snapshot.Value, StringComparer.Ordinal);
        foreach (var result in results)
        {
            var link = result.Link;
            var inferred = link.Manifest?.ParentInferred == true ? " (a parent inferred by adopt)" : "";
            if (!link.IsIncremental)
            {
                if (result.ParentUuid is { } named)
                {
                    yield return RestoreText.VerifyFail(link.Snapshot.Value, $"chain: stored as a full stream, but the stream is an incremental against the subvolume {named}");
                }

                continue;
            }

            if (!byName.TryGetValue(link.Parent!.Value, out var parent))
            {
                continue; // the parent was not verified in this run (or failed): nothing to compare
            }

            if (result.ParentUuid is null)
            {
                yield return RestoreText.VerifyFail(link.Snapshot.Value, "chain: stored as an incremental, but the stream is a full stream (its first command is SUBVOL, not SNAPSHOT)");
            }
            else if (parent.SubvolumeUuid is null || result.ParentUuid != parent.SubvolumeUuid)
            {
                var match = results.FirstOrDefault(r => r.SubvolumeUuid == result.ParentUuid);
                var hint = match is null ? "no verified stream creates that subvolume" : $"the stream that creates it is {match.Link.Snapshot}";
                yield return RestoreText.VerifyFail(link.Snapshot.Value,
                    $"chain: its parent {link.Parent}{inferred} does not match: the stream was sent against the subvolume {result.ParentUuid}, but {link.Parent}'s stream creates {parent.SubvolumeUuid ?? "(no UUID read)"}; {hint}; restoring {link.Snapshot} will fail");
            }
            else if (inferred.Length > 0)
            {
                yield return $"PROVEN {link.Snapshot}  parent {link.Parent}{inferred} matches by UUID {result.ParentUuid}";
            }
        }
    }
}

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
        var uuids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var link in selected)
        {
            try
            {
                using var progress = new ConsoleProgress();
                await source.PreverifyAsync(link, progress, cancellationToken);
                var parentUuid = link.Parent is { } parent && uuids.TryGetValue(parent.Value, out var known) ? known : null;
                var result = await LinkPipeline.RunAsync(source, link, keys, keyFiles.ChecksFor(set, parentUuid), null, progress, cancellationToken);
                if (result.Binding is { } binding)
                {
                    uuids[link.Snapshot.Value] = binding.SnapshotUuid;
                }

                await output.WriteLineAsync(RestoreText.VerifyOk(result));
                ok++;
            }
            catch (BtrfsSendException ex)
            {
                await output.WriteLineAsync(RestoreText.VerifyFail(link.Snapshot.Value, ex.Message));
                failures.Add(ex.ExitCode);
            }
        }

        log.Information("verify {Set}: {Ok} of {Total} stream(s) OK at {Source}", set, ok, selected.Count, source.Description);
        return failures.Count == 0 ? 0 : (int)failures[0];
    }
}

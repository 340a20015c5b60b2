using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// <c>restore --latest</c> and the restore drill's default snapshot, with a ledger: the newest
/// stored snapshot must not be older than the newest upload the receiver acknowledged
/// (LEDGER_FILE), or a backup server that deleted or rolled back the newer streams would make
/// "latest" silently mean "older". <c>--allow-rollback</c> (or naming the snapshot) skips this.
/// </summary>
internal static class RollbackGuard
{
    /// <summary>
    /// Throws <see cref="IntegrityException"/> when the newest of <paramref name="stored"/> is older than the ledger's newest of <paramref name="set"/>;
    /// <paramref name="command"/> (e.g. <c>restore --latest</c>, or null) starts the message, <paramref name="refused"/> says what was not done.
    /// </summary>
    public static void Check(BackupSet set, IReadOnlyList<RestoreLink> stored, IReadOnlyList<LedgerRecord> ledger, string ledgerFilePath, string sourceDescription,
        string? command = "restore --latest", string refused = "nothing was restored; to restore the older one anyway")
    {
        var acknowledged = UploadLedger.NewestOf(ledger, set);
        if (acknowledged is null)
        {
            return;
        }

        var newest = stored.MaxBy(l => l.Snapshot.TimestampUtc);
        if (newest is null || newest.Snapshot.TimestampUtc < acknowledged.Snapshot.TimestampUtc)
        {
            throw new IntegrityException(
                $"{(command is null ? "" : command + ": ")}the newest stored snapshot of {set} at {sourceDescription} is {newest?.Snapshot.Value ?? "none"}, older than the newest acknowledged upload {acknowledged.Snapshot} in LEDGER_FILE {ledgerFilePath} (deleted or rolled back on the backup server?); {refused} give --allow-rollback or --snapshot NAME");
        }
    }
}

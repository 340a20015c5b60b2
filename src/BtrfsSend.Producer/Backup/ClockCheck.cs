using System.Globalization;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// A run whose clock is not after the last acknowledged snapshot stops before anything is
/// touched: its snapshot name would sort before its parent's, which the receiver's grammar
/// refuses for an incremental (the parent must be earlier), and "newest" would no longer mean
/// newest. This happens when prod-srv's clock jumped back (docs/reliability.md).
/// </summary>
internal static class ClockCheck
{
    public static void RequireAfter(SnapshotName? previous, SnapshotName snapshot)
    {
        // The same second as the last snapshot is not a jump: the name is then taken already, which
        // the receiver refuses as such (exit 5), with the stored stream untouched.
        if (previous is null || snapshot.TimestampUtc >= previous.TimestampUtc)
        {
            return;
        }

        var behind = string.Create(CultureInfo.InvariantCulture, $"{(previous.TimestampUtc - snapshot.TimestampUtc).TotalHours:F1} h");
        throw new PrerequisiteException(
            $"this machine's clock ({snapshot.TimestampUtc:yyyy-MM-ddTHH:mm:ssZ}) is {behind} behind the last acknowledged snapshot {previous} (STATE_FILE): the clock jumped back; nothing was stopped, snapshotted or sent; set the clock right (NTP), or wait until it passes {previous.TimestampUtc:yyyy-MM-ddTHH:mm:ssZ}");
    }
}

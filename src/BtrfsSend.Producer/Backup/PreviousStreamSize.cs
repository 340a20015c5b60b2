using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// The ETA's estimate for a stream whose size is not known until btrfs send ends. The progress
/// counts send-stream bytes (before compression and encryption), so the estimate must be of those:
/// first the send-stream bytes this configuration recorded for its last stream of the same kind
/// (full or incremental; <see cref="LastStreamSizes"/>), in every mode; else the size the receiver
/// lists for the newest stream of that kind in the set — only when it is uncompressed, because an
/// uncompressed stream's stored size is its send stream plus a few hundred bytes of OpenPGP and
/// framing, while a zstd stream's is not comparable. <c>list-received</c> lists 0 bytes (no size),
/// which gives no estimate.
/// </summary>
internal static class PreviousStreamSize
{
    /// <summary>The estimate in bytes, or null when neither source has a comparable stream of that kind.</summary>
    public static long? Estimate(IReadOnlyList<ListEntryLine> listed, bool isIncremental, StreamCompression compression, long? recorded = null)
        => recorded is > 0
            ? recorded
            : compression != StreamCompression.None
                ? null
                : listed
                    .Where(e => e.IsIncremental == isIncremental && e.Compression == StreamCompression.None && e.Bytes > 0)
                    .MaxBy(e => e.Snapshot.Value, StringComparer.Ordinal)?.Bytes;

    /// <summary>The run's progress line with its estimate (<see cref="Estimate"/>); the log says where the estimate came from, or that there is none.</summary>
    public static ConsoleProgress Progress(BackupSet set, IReadOnlyList<ListEntryLine> listed, bool isIncremental, StreamCompression compression, LastStreamSizes recorded, ILogger log)
    {
        var fromRecord = recorded.Read(isIncremental);
        var estimate = Estimate(listed, isIncremental, compression, fromRecord);
        var kind = isIncremental ? ListEntryLine.IncrementalText : ListEntryLine.FullText;
        if (estimate is null)
        {
            log.Information("{Set}: no ETA estimate: no previous {Kind:l} stream of comparable size", set, kind);
        }
        else
        {
            log.Information("{Set}: ETA estimated from the previous {Kind:l} stream: {Bytes} send-stream bytes (from {Source:l})",
                set, kind, estimate, fromRecord is > 0 ? recorded.FilePath : "the receiver's list");
        }

        return new ConsoleProgress(estimate, isEstimate: true);
    }
}

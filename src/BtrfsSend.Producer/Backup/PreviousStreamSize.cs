using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// The ETA's estimate for a stream whose size is not known until btrfs send ends: the stored size
/// of the newest stream of the same kind (full or incremental) the receiver lists for the set.
/// The progress counts send-stream bytes; an uncompressed stream's stored size is that plus a few
/// hundred bytes of OpenPGP and framing, so only uncompressed streams (now and then) give an estimate.
/// </summary>
internal static class PreviousStreamSize
{
    /// <summary>The estimate in bytes, or null when the set has no such stream or compression makes sizes incomparable.</summary>
    public static long? Estimate(IReadOnlyList<ListEntryLine> listed, bool isIncremental, StreamCompression compression)
        => compression != StreamCompression.None
            ? null
            : listed
                .Where(e => e.IsIncremental == isIncremental && e.Compression == StreamCompression.None && e.Bytes > 0)
                .MaxBy(e => e.Snapshot.Value, StringComparer.Ordinal)?.Bytes;
}

using System.Globalization;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Pruning;

/// <summary>
/// What prune does about a server clock that jumped (docs/retention.md, "When the server's clock
/// jumps"). Retention orders streams by <c>received_at</c>, which the receiver stamped from its own
/// clock; a clock that was wrong for a while leaves stamps out of order, and a clock that is wrong
/// now moves the <c>KEEP_WITHIN</c> window. Both rules here only ever keep more, never less.
/// </summary>
internal static class RetentionClock
{
    /// <summary>The pin reason of <see cref="NewestNamePin"/>.</summary>
    public const string NewestNameReason = "newest snapshot name (the server's clock was ahead when a later-named stream arrived)";

    /// <summary>How far a <c>received_at</c> may be ahead of the clock before check and prune say so.</summary>
    public static readonly TimeSpan CheckTolerance = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The "now" <c>KEEP_WITHIN</c> counts back from: the server's clock, or the newest
    /// <c>received_at</c> if that is earlier. A clock that jumped forward (or a producer that
    /// stopped sending) then never ages the last backups out of the window.
    /// </summary>
    public static DateTimeOffset WindowEnd(IReadOnlyList<StoredStream> streams, DateTimeOffset now)
    {
        var newest = streams.Count == 0 ? now : new DateTimeOffset(streams.Max(s => s.Manifest.ReceivedAtUtc), TimeSpan.Zero);
        return newest < now ? newest : now;
    }

    /// <summary>
    /// The stream with the newest snapshot name, when it is not also the newest by
    /// <c>received_at</c>: a stream stamped while the server's clock was ahead would otherwise be
    /// "newest" and a later backup could be deleted. Only names the receiver could have accepted
    /// count (not further ahead of their own <c>received_at</c> than <paramref name="maxClockSkew"/>),
    /// so a forged name cannot claim the pin; the pin only adds a keep, it never deletes.
    /// </summary>
    public static Dictionary<string, string> NewestNamePin(IReadOnlyList<StoredStream> streams, TimeSpan maxClockSkew)
    {
        var pins = new Dictionary<string, string>(StringComparer.Ordinal);
        var newestReceived = streams.OrderByDescending(s => s.Manifest.ReceivedAtUtc).ThenByDescending(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal).FirstOrDefault();
        var newestName = streams
            .Where(s => s.Manifest.Snapshot.TimestampUtc - s.Manifest.ReceivedAtUtc <= maxClockSkew)
            .OrderByDescending(s => s.Manifest.Snapshot.TimestampUtc).ThenByDescending(s => s.Manifest.Snapshot.Value, StringComparer.Ordinal).FirstOrDefault();
        if (newestName is not null && !ReferenceEquals(newestName, newestReceived))
        {
            pins[newestName.Manifest.Snapshot.Value] = NewestNameReason;
        }

        return pins;
    }

    /// <summary>The warning prune logs when a stream was stamped later than the server's clock says it is now, else null.</summary>
    public static string? FutureWarning(IReadOnlyList<StoredStream> streams, DateTimeOffset now)
    {
        var ahead = streams.Where(s => s.Manifest.ReceivedAtUtc > now.UtcDateTime + CheckTolerance).MaxBy(s => s.Manifest.ReceivedAtUtc);
        return ahead is null
            ? null
            : $"{ahead.Manifest.Snapshot} was received at {ahead.Manifest.ReceivedAtUtc:yyyy-MM-ddTHH:mm:ssZ}, {Hours(ahead.Manifest.ReceivedAtUtc - now.UtcDateTime)} after the server's clock now ({now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}): the clock is behind, or was ahead then; check NTP (retention keeps the newest name and counts KEEP_WITHIN from the earlier of the two)";
    }

    /// <summary>A clock difference for a person: "47.9 h".</summary>
    public static string Hours(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalHours:F1} h");
}

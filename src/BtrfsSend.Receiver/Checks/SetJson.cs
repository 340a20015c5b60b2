using System.Globalization;
using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Checks;

/// <summary>
/// One set in <c>check --json</c>. A set with an offsite copy configured is an
/// <see cref="OffsiteSetJson"/>, whose three offsite properties follow these (and may be null);
/// without one they are absent, not null.
/// </summary>
[JsonDerivedType(typeof(OffsiteSetJson))]
internal record SetJson(
    [property: JsonPropertyName("set")] string Set,
    [property: JsonPropertyName("streams")] int Streams,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("newest_received_at")] string? NewestReceivedAt,
    [property: JsonPropertyName("newest_age_seconds")] double? NewestAgeSeconds,
    [property: JsonPropertyName("verified")] int Verified)
{
    public static SetJson Of(SetHealth s)
    {
        var received = s.NewestReceivedAtUtc?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return s.NotOffsite is { } pending
            ? new OffsiteSetJson(s.Set, s.Streams, s.Bytes, received, s.NewestAgeSeconds, s.Verified, pending, s.OldestNotOffsiteAgeSeconds, s.BucketLocked)
            : new SetJson(s.Set, s.Streams, s.Bytes, received, s.NewestAgeSeconds, s.Verified);
    }
}

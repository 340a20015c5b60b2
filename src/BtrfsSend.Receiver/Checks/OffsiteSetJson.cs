using System.Text.Json.Serialization;

namespace BtrfsSend.Receiver.Checks;

/// <summary>A set in <c>check --json</c> with S3_BUCKET configured: <see cref="SetJson"/>'s properties, then these three.</summary>
internal sealed record OffsiteSetJson(
    string Set,
    int Streams,
    long Bytes,
    string? NewestReceivedAt,
    double? NewestAgeSeconds,
    int Verified,
    [property: JsonPropertyName("offsite_pending"), JsonPropertyOrder(1)] int OffsitePending,
    [property: JsonPropertyName("offsite_oldest_pending_age_seconds"), JsonPropertyOrder(1)] double? OffsiteOldestPendingAgeSeconds,
    [property: JsonPropertyName("offsite_bucket_locked"), JsonPropertyOrder(1)] bool? OffsiteBucketLocked)
    : SetJson(Set, Streams, Bytes, NewestReceivedAt, NewestAgeSeconds, Verified);

namespace BtrfsSend.Receiver.Checks;

/// <summary>Numbers about one set, for perfdata, JSON and Prometheus.</summary>
internal sealed record SetHealth(string Set, int Streams, long Bytes, DateTime? NewestReceivedAtUtc, double? NewestAgeSeconds, int Verified)
{
    /// <summary>With S3_BUCKET set: committed streams not yet offsite (by the set's .offsite record); null = no offsite copy configured.</summary>
    public int? NotOffsite { get; init; }

    /// <summary>With S3_BUCKET set: how long the oldest stream not yet offsite has waited since it was received.</summary>
    public double? OldestNotOffsiteAgeSeconds { get; init; }

    /// <summary>With S3_BUCKET set: whether the last replicate found Object Lock on the bucket; null = not known yet.</summary>
    public bool? BucketLocked { get; init; }
}

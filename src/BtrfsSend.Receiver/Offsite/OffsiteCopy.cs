namespace BtrfsSend.Receiver.Offsite;

/// <summary>One stream finished offsite: its size and ETag as the bucket reported them on the check-back.</summary>
internal sealed record OffsiteCopy(string Snapshot, long StreamBytes, string StreamETag, DateTimeOffset? RetainUntil, DateTimeOffset RecordedAt);

namespace BtrfsSend.Producer.Backup;

/// <summary>What one acknowledged send moved.</summary>
internal sealed record SendResult(long PlaintextBytes, long StoredBytes, string StoredSha256, TimeSpan Duration);

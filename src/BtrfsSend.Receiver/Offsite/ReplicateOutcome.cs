namespace BtrfsSend.Receiver.Offsite;

/// <summary>What one replicate run did: streams copied, streams found already offsite, and every stream it could not copy and why.</summary>
internal sealed record ReplicateOutcome(int Sets, int Uploaded, long UploadedBytes, int AlreadyOffsite, bool BucketLocked, IReadOnlyList<string> Failures)
{
    public bool IsSuccess => Failures.Count == 0;
}

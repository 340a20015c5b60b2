namespace BtrfsSend.Receiver.Pruning;

/// <summary>What pruning one set did (or, with --dry-run, would do).</summary>
internal sealed record PruneOutcome(string Set, int Kept, int Deleted, long BytesFreed, string? Failure)
{
    public bool IsSuccess => Failure is null;
}

namespace BtrfsSend.Core.Chains;

/// <summary>
/// One stored stream as its manifest describes it: a full (no parent) or an incremental on top of
/// <see cref="Parent"/>. <see cref="IsIncremental"/> stands in for the manifest's <c>kind</c>.
/// </summary>
public sealed record ChainLink(string Snapshot, bool IsIncremental, string? Parent);

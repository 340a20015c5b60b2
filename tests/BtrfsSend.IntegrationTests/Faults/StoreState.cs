namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// What the fault world holds at one moment: every file under the receiver's store (relative
/// path → SHA-256; temp files included, lock files not), each producer state file's content and
/// the local snapshots. Taken before a fault so the case can prove what changed.
/// </summary>
internal sealed record StoreState(
    IReadOnlyDictionary<string, string> StoreFiles,
    IReadOnlyDictionary<string, string?> StateFiles,
    IReadOnlyList<string> LocalSnapshots)
{
    /// <summary>Committed manifests in the store, relative paths, sorted.</summary>
    public IReadOnlyList<string> Manifests => StoreFiles.Keys.Where(f => f.EndsWith(".manifest", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
}

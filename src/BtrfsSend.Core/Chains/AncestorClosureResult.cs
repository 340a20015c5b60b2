namespace BtrfsSend.Core.Chains;

/// <summary>
/// A keep set with every ancestor its members need added (<see cref="Snapshots"/>, sorted
/// ordinally), and the chains that could not be completed.
/// </summary>
public sealed record AncestorClosureResult(IReadOnlyList<string> Snapshots, IReadOnlyList<BrokenChain> Broken);

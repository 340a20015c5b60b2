using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Chains;

/// <summary>
/// Follows incrementals back to their full stream over the links of one backup set (one link per
/// stored manifest). A stream is restorable only if its whole chain is stored (docs/architecture.md), so
/// restore uses <see cref="ChainOf"/>, prune keeps <see cref="AncestorClosure"/>, and monitoring
/// reports <see cref="BrokenChains"/>.
/// </summary>
public sealed class ChainResolver
{
    private readonly Dictionary<string, ChainLink> _links;

    /// <exception cref="ArgumentException">A snapshot appears twice (one set cannot store a name twice).</exception>
    public ChainResolver(IEnumerable<ChainLink> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        _links = new Dictionary<string, ChainLink>(StringComparer.Ordinal);
        foreach (var link in links)
        {
            ArgumentNullException.ThrowIfNull(link);
            if (!_links.TryAdd(link.Snapshot, link))
            {
                throw new ArgumentException($"snapshot '{NameText.Printable(link.Snapshot)}' appears twice", nameof(links));
            }
        }
    }

    /// <summary>Every link, ordered by snapshot name.</summary>
    public IReadOnlyList<ChainLink> Links => _links.Values.OrderBy(l => l.Snapshot, StringComparer.Ordinal).ToList();

    /// <summary>The parent an incremental needs, or null for a full or an unknown snapshot (for <c>RetentionPlanner</c>).</summary>
    public string? ParentOf(string snapshot)
        => _links.TryGetValue(snapshot, out var link) && link.IsIncremental ? link.Parent : null;

    /// <summary>The chain from the full stream to <paramref name="snapshot"/>, or where and why it breaks.</summary>
    public ChainResult ChainOf(string snapshot) => Walk(snapshot).Result;

    /// <summary>
    /// <paramref name="keep"/> plus every ancestor its members need. For a broken chain every stored
    /// link on the path is still included, so a prune never deletes what a repaired chain would need.
    /// Linear in the number of links however long the chains are: a walk stops at a link already in
    /// the closure (its ancestors are in it too), and breaks are computed once per link.
    /// </summary>
    public AncestorClosureResult AncestorClosure(IEnumerable<string> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var closure = new HashSet<string>(StringComparer.Ordinal);
        var broken = new List<BrokenChain>();
        var breaks = new Dictionary<string, Break?>(StringComparer.Ordinal);
        foreach (var snapshot in keep.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!_links.TryGetValue(snapshot, out var link))
            {
                broken.Add(Broken(snapshot, ChainBreak.UnknownSnapshot, snapshot, snapshot, $"snapshot {NameText.Printable(snapshot)} is not stored"));
                continue;
            }

            // Every stored link reachable through parents, as Walk visits them (a cycle is walked once).
            while (closure.Add(link.Snapshot) && link.IsIncremental && link.Parent is { } parent && _links.TryGetValue(parent, out var next))
            {
                link = next;
            }

            if (BreakOf(snapshot, breaks) is { } b)
            {
                broken.Add(Broken(snapshot, b.Kind, b.At, b.Missing, b.What));
            }
        }

        return new AncestorClosureResult(closure.Order(StringComparer.Ordinal).ToList(), broken);
    }

    /// <summary>Every stored snapshot that cannot be restored, ordered by name, with why. Linear in the number of links.</summary>
    public IReadOnlyList<BrokenChain> BrokenChains()
    {
        var breaks = new Dictionary<string, Break?>(StringComparer.Ordinal);
        var result = new List<BrokenChain>();
        foreach (var snapshot in _links.Keys.Order(StringComparer.Ordinal))
        {
            if (BreakOf(snapshot, breaks) is { } b)
            {
                result.Add(Broken(snapshot, b.Kind, b.At, b.Missing, b.What));
            }
        }

        return result;
    }

    /// <summary>
    /// Where and why the chain of stored <paramref name="snapshot"/> breaks (null: it reaches a full),
    /// exactly as <see cref="Walk"/> would say, memoised in <paramref name="memo"/> for every link on
    /// the way: a link's break is the break of its parent's chain, except inside a cycle, where each
    /// member's walk stops at the member before it.
    /// </summary>
    private Break? BreakOf(string snapshot, Dictionary<string, Break?> memo)
    {
        if (memo.TryGetValue(snapshot, out var known))
        {
            return known;
        }

        var path = new List<string>();
        var onPath = new Dictionary<string, int>(StringComparer.Ordinal);
        var link = _links[snapshot];
        Break? result;
        while (true)
        {
            if (memo.TryGetValue(link.Snapshot, out var memoised))
            {
                result = memoised;
                break;
            }

            onPath[link.Snapshot] = path.Count;
            path.Add(link.Snapshot);
            if (!link.IsIncremental)
            {
                result = link.Parent is null ? null : FullWithParent(link);
                break;
            }

            var parent = link.Parent;
            if (string.IsNullOrEmpty(parent))
            {
                result = WithoutParent(link);
                break;
            }

            if (parent == link.Snapshot)
            {
                result = SelfParent(link);
                break;
            }

            if (onPath.TryGetValue(parent, out var entry))
            {
                for (var j = entry; j < path.Count; j++)
                {
                    memo[path[j]] = Cycle(_links[j == entry ? path[^1] : path[j - 1]]);
                }

                result = Cycle(link);
                path.RemoveRange(entry, path.Count - entry);
                break;
            }

            if (!_links.TryGetValue(parent, out var next))
            {
                result = MissingParent(link);
                break;
            }

            link = next;
        }

        foreach (var name in path)
        {
            memo[name] = result;
        }

        return memo[snapshot];
    }

    private (List<string> Path, ChainResult Result) Walk(string snapshot)
    {
        var path = new List<string>();
        if (!_links.TryGetValue(snapshot, out var link))
        {
            return (path, Broken(snapshot, ChainBreak.UnknownSnapshot, snapshot, snapshot,
                $"snapshot {NameText.Printable(snapshot)} is not stored"));
        }

        var onPath = new HashSet<string>(StringComparer.Ordinal);
        var links = new List<ChainLink>();
        while (true)
        {
            path.Add(link.Snapshot);
            onPath.Add(link.Snapshot);
            links.Add(link);
            Break? stop = null;
            ChainLink? next = null;
            if (!link.IsIncremental)
            {
                if (link.Parent is null)
                {
                    links.Reverse();
                    return (path, new ResolvedChain(links));
                }

                stop = FullWithParent(link);
            }
            else if (string.IsNullOrEmpty(link.Parent))
            {
                stop = WithoutParent(link);
            }
            else if (link.Parent == link.Snapshot)
            {
                stop = SelfParent(link);
            }
            else if (onPath.Contains(link.Parent))
            {
                stop = Cycle(link);
            }
            else if (!_links.TryGetValue(link.Parent, out next))
            {
                stop = MissingParent(link);
            }

            if (stop is { } b)
            {
                return (path, Broken(snapshot, b.Kind, b.At, b.Missing, b.What));
            }

            link = next!;
        }
    }

    private static Break FullWithParent(ChainLink link) => new(ChainBreak.FullWithParent, link.Snapshot, null,
        $"full stream {NameText.Printable(link.Snapshot)} also names a parent ({NameText.Printable(link.Parent!)}): its manifest is inconsistent");

    private static Break WithoutParent(ChainLink link) => new(ChainBreak.IncrementalWithoutParent, link.Snapshot, null,
        $"incremental {NameText.Printable(link.Snapshot)} names no parent");

    private static Break SelfParent(ChainLink link) => new(ChainBreak.SelfParent, link.Snapshot, null,
        $"incremental {NameText.Printable(link.Snapshot)} names itself as its parent");

    private static Break Cycle(ChainLink link) => new(ChainBreak.Cycle, link.Snapshot, null,
        $"incremental {NameText.Printable(link.Snapshot)} names parent {NameText.Printable(link.Parent!)}, which is already on the chain (a cycle)");

    private static Break MissingParent(ChainLink link) => new(ChainBreak.MissingParent, link.Snapshot, link.Parent,
        $"incremental {NameText.Printable(link.Snapshot)} needs parent {NameText.Printable(link.Parent!)}, which is not stored");

    private static BrokenChain Broken(string snapshot, ChainBreak kind, string at, string? missing, string what)
        => new(snapshot, kind, at, missing, $"chain of {NameText.Printable(snapshot)} is broken: {what}");

    /// <summary>Where a chain stops short of a full stream, before it is attributed to a snapshot.</summary>
    private readonly record struct Break(ChainBreak Kind, string At, string? Missing, string What);
}

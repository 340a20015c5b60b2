using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Chains;

/// <summary>
/// Follows incrementals back to their full stream over the links of one backup set (one link per
/// stored manifest). A stream is restorable only if its whole chain is stored (DESIGN.md §2), so
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
    /// </summary>
    public AncestorClosureResult AncestorClosure(IEnumerable<string> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var closure = new HashSet<string>(StringComparer.Ordinal);
        var broken = new List<BrokenChain>();
        foreach (var snapshot in keep.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var (path, result) = Walk(snapshot);
            closure.UnionWith(path);
            if (result is BrokenChain b)
            {
                broken.Add(b);
            }
        }

        return new AncestorClosureResult(closure.Order(StringComparer.Ordinal).ToList(), broken);
    }

    /// <summary>Every stored snapshot that cannot be restored, ordered by name, with why.</summary>
    public IReadOnlyList<BrokenChain> BrokenChains()
        => _links.Keys.Order(StringComparer.Ordinal)
            .Select(s => Walk(s).Result)
            .OfType<BrokenChain>()
            .ToList();

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
            var name = NameText.Printable(link.Snapshot);
            if (!link.IsIncremental)
            {
                if (link.Parent is not null)
                {
                    return (path, Broken(snapshot, ChainBreak.FullWithParent, link.Snapshot, null,
                        $"full stream {name} also names a parent ({NameText.Printable(link.Parent)}): its manifest is inconsistent"));
                }

                links.Reverse();
                return (path, new ResolvedChain(links));
            }

            var parent = link.Parent;
            if (string.IsNullOrEmpty(parent))
            {
                return (path, Broken(snapshot, ChainBreak.IncrementalWithoutParent, link.Snapshot, null,
                    $"incremental {name} names no parent"));
            }

            if (parent == link.Snapshot)
            {
                return (path, Broken(snapshot, ChainBreak.SelfParent, link.Snapshot, null,
                    $"incremental {name} names itself as its parent"));
            }

            if (onPath.Contains(parent))
            {
                return (path, Broken(snapshot, ChainBreak.Cycle, link.Snapshot, null,
                    $"incremental {name} names parent {NameText.Printable(parent)}, which is already on the chain (a cycle)"));
            }

            if (!_links.TryGetValue(parent, out var next))
            {
                return (path, Broken(snapshot, ChainBreak.MissingParent, link.Snapshot, parent,
                    $"incremental {name} needs parent {NameText.Printable(parent)}, which is not stored"));
            }

            link = next;
        }
    }

    private static BrokenChain Broken(string snapshot, ChainBreak kind, string at, string? missing, string what)
        => new(snapshot, kind, at, missing, $"chain of {NameText.Printable(snapshot)} is broken: {what}");
}

using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Retention;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Chains;

public sealed class ChainResolverPropertyTests
{
    /// <summary>
    /// Random sets: link i is a full (-1), an incremental on any link j (possibly itself or a later
    /// one, so cycles occur), an incremental on a missing name (== count), or without parent (-2).
    /// </summary>
    private static readonly Arbitrary<ChainLink[]> Sets =
        Gen.Choose(1, 30).SelectMany(n => Gen.Choose(-2, n).ArrayOf(n)).Select(Build).ToArbitrary();

    [Property(MaxTest = 300)]
    public Property A_resolved_chain_starts_with_a_full_ends_with_the_snapshot_and_each_link_is_the_parent_of_the_next() =>
        Prop.ForAll(Sets, links =>
        {
            var resolver = new ChainResolver(links);
            return links.All(l => resolver.ChainOf(l.Snapshot) is not ResolvedChain c
                || (!c.Links[0].IsIncremental
                    && c.Links[^1].Snapshot == l.Snapshot
                    && c.Links.Zip(c.Links.Skip(1)).All(p => p.Second.IsIncremental && p.Second.Parent == p.First.Snapshot)
                    && c.Links.Select(x => x.Snapshot).Distinct().Count() == c.Links.Count));
        });

    [Property(MaxTest = 300)]
    public Property Broken_chains_are_exactly_the_snapshots_whose_chain_does_not_resolve() =>
        Prop.ForAll(Sets, links =>
        {
            var resolver = new ChainResolver(links);
            var broken = resolver.BrokenChains().Select(b => b.Snapshot).ToHashSet(StringComparer.Ordinal);
            return links.All(l => broken.Contains(l.Snapshot) == resolver.ChainOf(l.Snapshot) is BrokenChain);
        });

    [Property(MaxTest = 300)]
    public Property The_ancestor_closure_is_closed_under_parents_and_contains_the_keep_set() =>
        Prop.ForAll(Sets, links => Prop.ForAll(Gen.SubListOf(links.Select(l => l.Snapshot).ToArray()).ToArbitrary(), keep =>
        {
            var resolver = new ChainResolver(links);
            var closure = resolver.AncestorClosure(keep);
            var set = closure.Snapshots.ToHashSet(StringComparer.Ordinal);
            var stored = links.Select(l => l.Snapshot).ToHashSet(StringComparer.Ordinal);
            return keep.All(set.Contains)
                && set.All(s => resolver.ParentOf(s) is not { } p || !stored.Contains(p) || set.Contains(p))
                && keep.All(k => resolver.ChainOf(k) is ResolvedChain || closure.Broken.Any(b => b.Snapshot == k));
        }));

    [Property(MaxTest = 200)]
    public Property The_retention_planner_and_the_resolver_agree_on_ancestors() =>
        Prop.ForAll(Sets, links => Prop.ForAll(Gen.Choose(1, 5).ToArbitrary(), daily =>
        {
            var resolver = new ChainResolver(links);
            var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            var items = links.Select((l, i) => new RetentionItem(l.Snapshot, start.AddDays(i))).ToList();
            var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, daily, 0, 0, 0), start.AddDays(links.Length), resolver.ParentOf);
            var kept = plan.Kept.Select(d => d.Id).ToList();
            var fromPolicy = plan.Kept.Where(d => !d.Reasons[0].StartsWith("ancestor of ", StringComparison.Ordinal)).Select(d => d.Id);
            return resolver.AncestorClosure(fromPolicy).Snapshots.Order(StringComparer.Ordinal)
                .SequenceEqual(kept.Order(StringComparer.Ordinal), StringComparer.Ordinal);
        }));

    /// <summary>
    /// BrokenChains and AncestorClosure share one memo of breaks per call (to stay linear); each
    /// break they report must still read exactly as ChainOf's own walk for that snapshot, cycles included.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Broken_chains_and_the_closure_report_exactly_what_ChainOf_reports() =>
        Prop.ForAll(Sets, links => Prop.ForAll(Gen.SubListOf(links.Select(l => l.Snapshot).ToArray()).ToArbitrary(), keep =>
        {
            var resolver = new ChainResolver(links);
            var expected = links.Select(l => resolver.ChainOf(l.Snapshot)).OfType<BrokenChain>().OrderBy(b => b.Snapshot, StringComparer.Ordinal).ToList();
            var expectedForKeep = keep.Distinct().Order(StringComparer.Ordinal).Select(resolver.ChainOf).OfType<BrokenChain>().ToList();
            return resolver.BrokenChains().SequenceEqual(expected)
                && resolver.AncestorClosure(keep).Broken.SequenceEqual(expectedForKeep);
        }));

    /// <summary>The closure is exactly the union of the links each kept snapshot's chain walks through.</summary>
    [Property(MaxTest = 300)]
    public Property The_ancestor_closure_is_the_union_of_the_kept_chains() =>
        Prop.ForAll(Sets, links => Prop.ForAll(Gen.SubListOf(links.Select(l => l.Snapshot).ToArray()).ToArbitrary(), keep =>
        {
            var resolver = new ChainResolver(links);
            var byName = links.ToDictionary(l => l.Snapshot, StringComparer.Ordinal);
            var expected = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var k in keep)
            {
                // Follow parents while stored, visiting each link once (a cycle ends the walk).
                for (var at = k; at is not null && byName.TryGetValue(at, out var link) && expected.Add(at);)
                {
                    at = link.IsIncremental ? link.Parent : null;
                }
            }

            return resolver.AncestorClosure(keep).Snapshots.SequenceEqual(expected);
        }));

    private static ChainLink[] Build(int[] parents)
    {
        var names = parents.Select((_, i) => $"s-{i:D2}").ToArray();
        return parents.Select((p, i) => p switch
        {
            -1 => new ChainLink(names[i], false, null),
            -2 => new ChainLink(names[i], true, null),
            _ when p == parents.Length => new ChainLink(names[i], true, $"gone-{i:D2}"),
            _ => new ChainLink(names[i], true, names[p]),
        }).ToArray();
    }
}

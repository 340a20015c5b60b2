using BtrfsSend.Core.Chains;

namespace BtrfsSend.Core.Tests.Chains;

public sealed class ChainResolverTests
{
    private static readonly ChainLink[] Set =
    [
        Full("s-01"),
        Incr("s-02", "s-01"),
        Incr("s-03", "s-02"),
        Full("s-04"),
        Incr("s-05", "s-04"),
        Incr("s-06", "s-gone"),
        Incr("s-07", "s-06"),
        Incr("s-08", "s-08"),
        Incr("s-09", null),
        new("s-10", false, "s-01"),
        Incr("s-11", "s-12"),
        Incr("s-12", "s-11"),
    ];

    private static readonly ChainResolver Resolver = new(Set);

    /// <summary>
    /// One full and 19,999 incrementals on it: walking every chain separately would be quadratic
    /// (2·10⁸ steps); the memoised walk is linear and iterative, so this also cannot overflow the stack.
    /// </summary>
    [Fact]
    public void A_twenty_thousand_link_chain_resolves_broken_chains_and_closure_in_one_linear_pass()
    {
        const int count = 20_000;
        var links = Enumerable.Range(0, count).Select(i => i == 0 ? Full("c-00000") : Incr($"c-{i:D5}", $"c-{i - 1:D5}")).ToList();
        links[count / 2] = Incr($"c-{count / 2:D5}", "c-missing");
        var resolver = new ChainResolver(links);

        var broken = resolver.BrokenChains();
        var closure = resolver.AncestorClosure([$"c-{count - 1:D5}", "c-00003"]);

        Assert.Equal(count / 2, broken.Count);
        Assert.All(broken, b => Assert.Equal((ChainBreak.MissingParent, $"c-{count / 2:D5}", "c-missing"), (b.Break, b.At, b.Missing)));
        Assert.Equal($"c-{count / 2:D5}", broken[0].Snapshot);
        Assert.Equal(count / 2 + 4, closure.Snapshots.Count);
        Assert.Equal([$"c-{count - 1:D5}"], closure.Broken.Select(b => b.Snapshot));
    }

    [Fact]
    public void The_chain_of_an_incremental_runs_from_its_full_to_itself()
    {
        var chain = Assert.IsType<ResolvedChain>(Resolver.ChainOf("s-03"));

        Assert.Equal(["s-01", "s-02", "s-03"], chain.Links.Select(l => l.Snapshot));
        Assert.Equal("s-01", chain.Full.Snapshot);
        Assert.Equal("s-03", chain.Snapshot);
    }

    [Fact]
    public void The_chain_of_a_full_is_itself()
    {
        var chain = Assert.IsType<ResolvedChain>(Resolver.ChainOf("s-04"));

        Assert.Equal(["s-04"], chain.Links.Select(l => l.Snapshot));
    }

    [Theory]
    [InlineData("s-99", ChainBreak.UnknownSnapshot, "s-99", "s-99", "chain of s-99 is broken: snapshot s-99 is not stored")]
    [InlineData("s-07", ChainBreak.MissingParent, "s-06", "s-gone", "chain of s-07 is broken: incremental s-06 needs parent s-gone, which is not stored")]
    [InlineData("s-08", ChainBreak.SelfParent, "s-08", null, "chain of s-08 is broken: incremental s-08 names itself as its parent")]
    [InlineData("s-09", ChainBreak.IncrementalWithoutParent, "s-09", null, "chain of s-09 is broken: incremental s-09 names no parent")]
    [InlineData("s-10", ChainBreak.FullWithParent, "s-10", null, "chain of s-10 is broken: full stream s-10 also names a parent (s-01): its manifest is inconsistent")]
    [InlineData("s-11", ChainBreak.Cycle, "s-12", null, "chain of s-11 is broken: incremental s-12 names parent s-11, which is already on the chain (a cycle)")]
    public void A_broken_chain_names_where_and_why_it_breaks(string snapshot, ChainBreak kind, string at, string? missing, string message)
    {
        var broken = Assert.IsType<BrokenChain>(Resolver.ChainOf(snapshot));

        Assert.Equal(new BrokenChain(snapshot, kind, at, missing, message), broken);
    }

    [Fact]
    public void Broken_chains_lists_every_snapshot_that_cannot_be_restored_in_name_order()
    {
        var broken = Resolver.BrokenChains();

        Assert.Equal(["s-06", "s-07", "s-08", "s-09", "s-10", "s-11", "s-12"], broken.Select(b => b.Snapshot));
    }

    [Fact]
    public void The_ancestor_closure_adds_every_link_the_kept_snapshots_need()
    {
        var closure = Resolver.AncestorClosure(["s-03", "s-05"]);

        Assert.Equal(["s-01", "s-02", "s-03", "s-04", "s-05"], closure.Snapshots);
        Assert.Empty(closure.Broken);
    }

    [Fact]
    public void The_ancestor_closure_of_a_broken_chain_keeps_its_stored_links_and_reports_the_break()
    {
        var closure = Resolver.AncestorClosure(["s-07", "s-unknown"]);

        Assert.Equal(["s-06", "s-07"], closure.Snapshots);
        Assert.Equal([ChainBreak.MissingParent, ChainBreak.UnknownSnapshot], closure.Broken.Select(b => b.Break));
    }

    [Fact]
    public void ParentOf_gives_the_parent_of_an_incremental_only()
    {
        Assert.Equal("s-02", Resolver.ParentOf("s-03"));
        Assert.Null(Resolver.ParentOf("s-10"));
        Assert.Null(Resolver.ParentOf("s-99"));
    }

    [Fact]
    public void A_snapshot_stored_twice_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ChainResolver([Full("a"), Incr("a", "b")]));

        Assert.Contains("'a' appears twice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Hostile_names_are_shown_escaped_in_messages()
    {
        var resolver = new ChainResolver([Incr("x", "evil\nline\u001b[31m")]);

        var broken = Assert.IsType<BrokenChain>(resolver.ChainOf("x"));

        Assert.DoesNotContain('\n', broken.Message);
        Assert.Contains("evil\\x0aline\\x1b[31m", broken.Message, StringComparison.Ordinal);
    }

    internal static ChainLink Full(string name) => new(name, false, null);

    internal static ChainLink Incr(string name, string? parent) => new(name, true, parent);
}

using BtrfsSend.Core.Errors;
using BtrfsSend.Producer.Restore;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static BtrfsSend.Producer.Tests.Restore.RestoreLinks;

namespace BtrfsSend.Producer.Tests.Restore;

public sealed class RestorePlanTests
{
    [Fact]
    public void Without_a_snapshot_the_newest_stored_one_is_restored_with_its_whole_chain()
    {
        var chain = RestorePlan.ChainOf(Linear(4), null, Set, "here");

        Assert.Equal([Name(0), Name(1), Name(2), Name(3)], chain.Select(l => l.Snapshot));
    }

    [Fact]
    public void A_chain_restarts_at_the_newest_full_it_depends_on()
    {
        IReadOnlyList<RestoreLink> stored = [Full(0), Incremental(1, 0), Full(2), Incremental(3, 2)];

        Assert.Equal([Name(2), Name(3)], RestorePlan.ChainOf(stored, Name(3), Set, "here").Select(l => l.Snapshot));
        Assert.Equal([Name(0), Name(1)], RestorePlan.ChainOf(stored, Name(1), Set, "here").Select(l => l.Snapshot));
    }

    [Fact]
    public void A_missing_middle_link_is_refused_naming_it()
    {
        IReadOnlyList<RestoreLink> stored = [Full(0), Incremental(2, 1), Incremental(3, 2)];

        var refused = Assert.Throws<IntegrityException>(() => RestorePlan.ChainOf(stored, null, Set, "here"));

        Assert.Contains($"missing link: {Name(1)}", refused.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was restored", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_snapshot_is_refused_pointing_at_restore_list()
    {
        var refused = Assert.Throws<RefusedException>(() => RestorePlan.ChainOf(Linear(2), Name(9), Set, "/mnt/usb"));

        Assert.Equal($"snapshot {Name(9)} is not stored in set prod-srv/rootfs at /mnt/usb; 'restore --list' shows what is", refused.Message);
    }

    [Fact]
    public void An_empty_set_is_refused()
    {
        Assert.Throws<RefusedException>(() => RestorePlan.ChainOf([], null, Set, "here"));
    }

    [Fact]
    public void Restorable_lists_chain_lengths_and_why_a_chain_is_broken()
    {
        IReadOnlyList<RestoreLink> stored = [Full(0, 5000), Incremental(1, 0, 7), Incremental(3, 2)];

        var listed = RestorePlan.Restorable(stored);

        Assert.Equal([1, 2], listed.Where(s => s.IsRestorable).Select(s => s.Chain!.Count));
        Assert.Equal(5007, listed[1].ChainBytes);
        Assert.Contains($"needs parent {Name(2)}, which is not stored", listed[2].BrokenReason, StringComparison.Ordinal);
    }

    [Property(MaxTest = 200)]
    public Property Every_link_of_a_linear_chain_restores_from_the_full_in_order() =>
        Prop.ForAll(Gen.Choose(1, 40).SelectMany(n => Gen.Choose(0, n - 1).Select(k => (n, k))).ToArbitrary(), p =>
        {
            var chain = RestorePlan.ChainOf(Linear(p.n), Name(p.k), Set, "here");
            return chain.Select(l => l.Snapshot).SequenceEqual(Enumerable.Range(0, p.k + 1).Select(Name));
        });
}

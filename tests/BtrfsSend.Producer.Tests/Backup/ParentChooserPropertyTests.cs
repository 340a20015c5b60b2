using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class ParentChooserPropertyTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// A random world: n snapshots one day apart (the newest yesterday); on the receiver each is
    /// absent, a full, or an incremental on any snapshot (stored or not, so chains break and cycle);
    /// a random subset exists locally; the state names one of them, or nothing.
    /// </summary>
    private static readonly Arbitrary<World> Worlds =
        Gen.Choose(1, 12).SelectMany(n =>
            from kinds in Gen.Choose(-2, n - 1).ArrayOf(n)
            from local in Gen.Elements(true, false).ArrayOf(n)
            from state in Gen.Choose(-1, n - 1)
            from interval in Gen.Choose(1, 15)
            select Build(n, kinds, local, state, interval)).ToArbitrary();

    [Property(MaxTest = 500)]
    public Property An_incremental_is_only_ever_against_the_state_snapshot_that_exists_locally_and_on_the_receiver() =>
        Prop.ForAll(Worlds, w =>
        {
            var d = ParentChooser.Choose(w.State, w.Local, w.Remote, w.IntervalDays, Now);
            return !d.IsIncremental
                || (d.Parent == w.State && w.Local.Contains(d.Parent!.Value) && w.Remote.Any(e => e.Snapshot == d.Parent));
        });

    [Property(MaxTest = 500)]
    public Property An_incremental_parent_has_an_unbroken_chain_back_to_a_full_within_the_interval() =>
        Prop.ForAll(Worlds, w =>
        {
            var d = ParentChooser.Choose(w.State, w.Local, w.Remote, w.IntervalDays, Now);
            if (!d.IsIncremental)
            {
                return true;
            }

            var byName = w.Remote.ToDictionary(e => e.Snapshot.Value, StringComparer.Ordinal);
            var entry = byName[d.Parent!.Value];
            for (var hops = 0; entry.IsIncremental; hops++)
            {
                if (hops > w.Remote.Count || !byName.TryGetValue(entry.Parent!.Value, out entry!))
                {
                    return false;
                }
            }

            return Now.UtcDateTime - entry.Snapshot.TimestampUtc <= TimeSpan.FromDays(w.IntervalDays);
        });

    [Property(MaxTest = 300)]
    public Property A_longer_interval_never_turns_an_incremental_into_a_full() =>
        Prop.ForAll(Worlds, w =>
        {
            var shorter = ParentChooser.Choose(w.State, w.Local, w.Remote, w.IntervalDays, Now);
            var longer = ParentChooser.Choose(w.State, w.Local, w.Remote, w.IntervalDays + 30, Now);
            return !shorter.IsIncremental || longer == shorter with { Reason = longer.Reason };
        });

    [Property(MaxTest = 300)]
    public Property Without_a_state_snapshot_or_with_it_gone_locally_the_run_is_a_full() =>
        Prop.ForAll(Worlds, w =>
        {
            var noState = ParentChooser.Choose(null, w.Local, w.Remote, w.IntervalDays, Now);
            var gone = w.State is null ? noState : ParentChooser.Choose(w.State, w.Local.Where(l => l != w.State.Value).ToHashSet(StringComparer.Ordinal), w.Remote, w.IntervalDays, Now);
            return !noState.IsIncremental && !gone.IsIncremental && noState.Reason.StartsWith("full: ", StringComparison.Ordinal);
        });

    private static World Build(int n, int[] kinds, bool[] local, int state, int interval)
    {
        var names = Enumerable.Range(0, n).Select(i => SnapshotName.Create("p", Now.AddDays(-(n - i)))).ToArray();
        var remote = new List<ListEntryLine>();
        for (var i = 0; i < n; i++)
        {
            if (kinds[i] == -2)
            {
                continue;
            }

            remote.Add(kinds[i] == -1
                ? new ListEntryLine(names[i], false, null, 1, names[i].TimestampUtc)
                : new ListEntryLine(names[i], true, names[kinds[i]], 1, names[i].TimestampUtc));
        }

        return new World(
            state < 0 ? null : names[state],
            names.Where((_, i) => local[i]).Select(s => s.Value).ToHashSet(StringComparer.Ordinal),
            remote,
            interval);
    }

    internal sealed record World(SnapshotName? State, HashSet<string> Local, IReadOnlyList<ListEntryLine> Remote, int IntervalDays)
    {
        public override string ToString() =>
            $"state={State?.Value ?? "-"} interval={IntervalDays} local=[{string.Join(' ', Local)}] remote=[{string.Join("; ", Remote.Select(r => r.Render()))}]";
    }
}

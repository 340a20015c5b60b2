using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class ParentChooserTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A snapshot <paramref name="daysAgo"/> days before <see cref="Now"/>.</summary>
    internal static SnapshotName Snap(double daysAgo) => SnapshotName.Create("prod-srv-rootfs", Now.AddDays(-daysAgo));

    internal static ListEntryLine Full(SnapshotName s) => new(s, false, null, 1000, s.TimestampUtc);

    internal static ListEntryLine Incr(SnapshotName s, SnapshotName parent) => new(s, true, parent, 100, s.TimestampUtc);

    private static HashSet<string> Local(params SnapshotName[] names) => names.Select(n => n.Value).ToHashSet(StringComparer.Ordinal);

    public static TheoryData<string, bool, string> Cases()
    {
        var data = new TheoryData<string, bool, string>();
        foreach (var (name, (state, local, remote)) in Scenarios())
        {
            var decision = ParentChooser.Choose(state, local, remote, 32, Now);
            data.Add(name, decision.IsIncremental, decision.Reason);
        }

        return data;
    }

    private static IEnumerable<(string Name, (SnapshotName? State, HashSet<string> Local, ListEntryLine[] Remote) Scenario)> Scenarios()
    {
        var full = Snap(10);
        var incr1 = Snap(5);
        var incr2 = Snap(1);
        var old = Snap(40);
        yield return ("no state file", (null, Local(full), [Full(full)]));
        yield return ("state snapshot deleted locally", (full, Local(incr1), [Full(full)]));
        yield return ("receiver does not list the state snapshot", (incr1, Local(full, incr1), [Full(full)]));
        yield return ("receiver lists a fresh full", (full, Local(full), [Full(full)]));
        yield return ("chain of two incrementals back to a fresh full", (incr2, Local(incr2), [Full(full), Incr(incr1, full), Incr(incr2, incr1)]));
        yield return ("chain broken on the receiver", (incr2, Local(incr2), [Full(full), Incr(incr2, incr1)]));
        yield return ("last full older than FULL_INTERVAL_DAYS", (incr2, Local(incr2), [Full(old), Incr(incr2, old)]));
        yield return ("a parent cycle on the receiver", (incr1, Local(incr1), [Incr(incr1, incr2), Incr(incr2, incr1)]));
        yield return ("last full exactly FULL_INTERVAL_DAYS old", (Snap(32), Local(Snap(32)), [Full(Snap(32))]));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_parent_is_the_state_snapshot_only_when_it_exists_locally_and_its_chain_is_on_the_receiver_and_fresh(string scenario, bool isIncremental, string reason)
    {
        var expected = scenario switch
        {
            "receiver lists a fresh full" or "chain of two incrementals back to a fresh full" or "last full exactly FULL_INTERVAL_DAYS old" => true,
            _ => false,
        };

        Assert.Equal(expected, isIncremental);
        Assert.StartsWith(expected ? "incremental against " : "full: ", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_decision_names_its_reason_in_a_line_a_sysadmin_can_read()
    {
        var lines = Scenarios().Select(s =>
        {
            var (state, local, remote) = s.Scenario;
            return $"{s.Name}: {ParentChooser.Choose(state, local, remote, 32, Now).Reason}";
        }).ToArray();

        Snapshooter.Xunit.Snapshot.Match(lines);
    }

    [Fact]
    public void An_incremental_decision_carries_the_state_snapshot_as_parent()
    {
        var full = Snap(3);
        var decision = ParentChooser.Choose(full, Local(full), [Full(full)], 32, Now);

        Assert.Equal(full, decision.Parent);
    }

    [Fact]
    public void A_forced_full_names_the_age_of_the_last_full_and_the_setting()
    {
        var full = Snap(40);
        var decision = ParentChooser.Choose(full, Local(full), [Full(full)], 32, Now);

        Assert.Null(decision.Parent);
        Assert.Contains("40 days old", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("FULL_INTERVAL_DAYS=32", decision.Reason, StringComparison.Ordinal);
    }
}

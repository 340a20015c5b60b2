using BtrfsSend.Core.Retention;

namespace BtrfsSend.Core.Tests.Retention;

public sealed class RetentionPlannerTests
{
    private static readonly DateTimeOffset Now = Utc("2026-11-20T03:00:00");

    [Fact]
    public void A_month_of_dailies_with_daily_7_weekly_4_monthly_12_keeps_the_worked_example_of_the_docs()
    {
        var items = Dailies(Utc("2026-10-20T02:00:00"), 32);
        var policy = new RetentionPolicy(Hourly: 0, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 0);

        var plan = RetentionPlanner.Plan(items, policy, Now);

        Assert.Equal(
            ["20261120", "20261119", "20261118", "20261117", "20261116", "20261115", "20261114", "20261108", "20261101", "20261031"],
            plan.Kept.Select(d => d.Id[5..13]));
        Assert.Equal(["newest", "daily 2026-11-20 (1 of 7)", "weekly 2026-W47 (1 of 4)", "monthly 2026-11 (1 of 12)"], plan.Decisions[0].Reasons);
        Snapshooter.Xunit.Snapshot.Match(plan.Render());
    }

    [Fact]
    public void An_old_full_is_kept_as_the_ancestor_of_a_kept_incremental_the_worked_example_of_the_docs()
    {
        var items = Dailies(Utc("2026-11-11T02:00:00"), 10);
        var parents = items.Skip(1).Zip(items).ToDictionary(p => p.First.Id, p => p.Second.Id);
        var policy = new RetentionPolicy(Hourly: 0, Daily: 3, Weekly: 0, Monthly: 0, Yearly: 0);

        var plan = RetentionPlanner.Plan(items, policy, Now, id => parents.GetValueOrDefault(id));

        Assert.All(plan.Decisions, d => Assert.True(d.Keep));
        Assert.Equal(["ancestor of snap-20261118T020000Z"], plan.Decisions.Single(d => d.Id == "snap-20261111T020000Z").Reasons);
        Assert.Empty(plan.Problems);
        Snapshooter.Xunit.Snapshot.Match(plan.Render());
    }

    [Fact]
    public void A_chain_that_restarts_with_a_new_full_lets_the_old_chain_go()
    {
        var items = Dailies(Utc("2026-11-11T02:00:00"), 10);
        // full on the 11th and the 16th, incrementals on the previous day otherwise
        var parents = items.Skip(1).Zip(items).Where(p => !p.First.Id.Contains("20261116", StringComparison.Ordinal)).ToDictionary(p => p.First.Id, p => p.Second.Id);
        var policy = new RetentionPolicy(0, 3, 0, 0, 0);

        var plan = RetentionPlanner.Plan(items, policy, Now, id => parents.GetValueOrDefault(id));

        Assert.Equal(["20261120", "20261119", "20261118", "20261117", "20261116"], plan.Kept.Select(d => d.Id[5..13]));
        Assert.Equal([RetentionPlanner.NotKeptReason], plan.Deleted.First().Reasons);
    }

    [Fact]
    public void A_kept_incremental_whose_parent_is_missing_is_reported()
    {
        var items = Dailies(Utc("2026-11-18T02:00:00"), 3);
        var parents = new Dictionary<string, string> { [items[2].Id] = "snap-20261101T000000Z" };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 1, 0, 0, 0), Now, id => parents.GetValueOrDefault(id));

        var problem = Assert.Single(plan.Problems);
        Assert.Equal("snap-20261120T020000Z is kept but its parent snap-20261101T000000Z is not stored: its chain is broken and it cannot be restored", problem);
    }

    [Fact]
    public void An_empty_policy_keeps_every_item_and_says_why()
    {
        var items = Dailies(Utc("2020-01-01T00:00:00"), 40);

        var plan = RetentionPlanner.Plan(items, RetentionPolicy.Empty, Now);

        Assert.True(RetentionPolicy.Empty.IsEmpty);
        Assert.All(plan.Decisions, d => Assert.Equal([RetentionPlanner.EmptyPolicyReason], d.Reasons));
        Assert.Empty(plan.Deleted);
    }

    [Fact]
    public void A_policy_that_keeps_nothing_old_still_keeps_the_newest()
    {
        var items = Dailies(Utc("2020-01-01T00:00:00"), 5);

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 0, 0, 0, 0, TimeSpan.FromHours(1)), Now);

        var kept = Assert.Single(plan.Kept);
        Assert.Equal("snap-20200105T000000Z", kept.Id);
        Assert.Equal([RetentionPlanner.NewestReason], kept.Reasons);
    }

    [Fact]
    public void Keep_within_keeps_everything_younger_than_the_window()
    {
        var items = Hourlies(Utc("2026-11-18T00:00:00"), 52);

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 0, 0, 0, 0, TimeSpan.FromHours(36)), Now);

        Assert.Equal(37, plan.Kept.Count(d => d.Reasons.Contains("within 36h")));
        Assert.Equal(Utc("2026-11-18T15:00:00"), plan.Kept.Last().Time);
    }

    [Fact]
    public void Hourly_keeps_the_newest_item_of_each_hour()
    {
        var items = new[] { Item("a", "2026-11-20T02:10:00"), Item("b", "2026-11-20T02:50:00"), Item("c", "2026-11-20T01:59:59"), Item("d", "2026-11-20T00:00:00") };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(2, 0, 0, 0, 0), Now);

        Assert.Equal(["b", "c"], plan.Kept.Select(d => d.Id));
        Assert.Contains("hourly 2026-11-20T01 (2 of 2)", plan.Decisions.Single(d => d.Id == "c").Reasons);
    }

    [Fact]
    public void Iso_weeks_start_on_monday_and_the_first_days_of_a_year_can_belong_to_the_last_week_of_the_previous_one()
    {
        var items = new[]
        {
            Item("mon-2026-12-28", "2026-12-28T12:00:00"),
            Item("sun-2027-01-03", "2027-01-03T23:59:59"),
            Item("mon-2027-01-04", "2027-01-04T00:00:00"),
        };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 0, 3, 0, 0), Utc("2027-01-05T00:00:00"));

        Assert.Equal(["mon-2027-01-04", "sun-2027-01-03"], plan.Kept.Select(d => d.Id));
        Assert.Contains("weekly 2026-W53 (2 of 3)", plan.Decisions[1].Reasons);
    }

    [Fact]
    public void Monthly_and_yearly_count_periods_that_have_an_item_however_far_back()
    {
        var items = new[] { Item("a", "2026-11-01T00:00:00"), Item("b", "2024-03-05T00:00:00"), Item("c", "2019-07-01T00:00:00"), Item("d", "2019-01-01T00:00:00") };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 0, 0, 3, 3), Now);

        Assert.Equal(["a", "b", "c"], plan.Kept.Select(d => d.Id));
        Assert.Equal(["monthly 2019-07 (3 of 3)", "yearly 2019 (3 of 3)"], plan.Decisions[2].Reasons);
    }

    [Fact]
    public void Periods_are_taken_in_utc_whatever_the_offset_of_the_time()
    {
        var items = new[]
        {
            new RetentionItem("late", new DateTimeOffset(2026, 11, 20, 1, 0, 0, TimeSpan.FromHours(2))),
            new RetentionItem("early", Utc("2026-11-19T22:00:00")),
        };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 2, 0, 0, 0), Now);

        Assert.Equal(["late"], plan.Kept.Select(d => d.Id));
        Assert.Contains("daily 2026-11-19 (1 of 2)", plan.Decisions[0].Reasons);
    }

    [Fact]
    public void Items_at_the_same_time_are_ordered_by_id()
    {
        var items = new[] { Item("b", "2026-11-19T00:00:00"), Item("c", "2026-11-19T00:00:00"), Item("a", "2026-11-19T00:00:00") };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 1, 0, 0, 0), Now);

        Assert.Equal(["c", "b", "a"], plan.Decisions.Select(d => d.Id));
        Assert.Equal(["c"], plan.Kept.Select(d => d.Id));
    }

    [Fact]
    public void The_time_given_decides_not_the_time_in_the_client_chosen_name()
    {
        // A compromised client names its streams as if they were years newer; received_at says otherwise.
        var items = new[]
        {
            Item("snap-20991231T000000Z", "2026-11-01T00:00:00"),
            Item("snap-20991230T000000Z", "2026-11-02T00:00:00"),
            Item("snap-20261119T000000Z", "2026-11-19T00:00:00"),
        };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 2, 0, 0, 0), Now);

        Assert.Equal(["snap-20261119T000000Z", "snap-20991230T000000Z"], plan.Kept.Select(d => d.Id));
    }

    [Fact]
    public void A_pinned_item_is_kept_with_its_reason()
    {
        var items = Dailies(Utc("2026-11-01T00:00:00"), 10);
        var pinned = new Dictionary<string, string> { ["snap-20261103T000000Z"] = "state file: parent of the next incremental", ["not-there"] = "ignored" };

        var plan = RetentionPlanner.Plan(items, new RetentionPolicy(0, 1, 0, 0, 0), Now, pinned: pinned);

        Assert.Equal(["state file: parent of the next incremental"], plan.Decisions.Single(d => d.Id == "snap-20261103T000000Z").Reasons);
        Assert.Equal(2, plan.Kept.Count());
    }

    [Fact]
    public void No_items_give_an_empty_plan()
    {
        var plan = RetentionPlanner.Plan([], new RetentionPolicy(1, 1, 1, 1, 1), Now);

        Assert.Empty(plan.Decisions);
        Assert.Equal("", plan.Render());
    }

    [Theory]
    [InlineData(-1, 0, "keep-hourly is -1")]
    [InlineData(0, -5, "keep-yearly is -5")]
    public void A_negative_count_is_refused_naming_the_rule(int hourly, int yearly, string expected)
    {
        var policy = new RetentionPolicy(hourly, 0, 0, 0, yearly);

        var error = Assert.Throws<ArgumentException>(() => RetentionPlanner.Plan([], policy, Now));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_negative_window_is_refused()
    {
        var policy = new RetentionPolicy(0, 0, 0, 0, 0, TimeSpan.FromHours(-1));

        Assert.Contains("keep-within is negative", policy.Problem(), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => RetentionPlanner.Plan([], policy, Now));
    }

    [Fact]
    public void Duplicate_ids_are_refused()
    {
        var items = new[] { Item("a", "2026-11-19T00:00:00"), Item("a", "2026-11-18T00:00:00") };

        var error = Assert.Throws<ArgumentException>(() => RetentionPlanner.Plan(items, RetentionPolicy.Empty, Now));

        Assert.Contains("'a' appears twice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(36 * 60, "36h")]
    [InlineData(7 * 24 * 60, "7d")]
    [InlineData(90, "90m")]
    [InlineData(0, "0d")]
    public void Durations_are_shown_in_their_shortest_exact_unit(int minutes, string expected)
    {
        Assert.Equal(expected, RetentionPolicy.FormatDuration(TimeSpan.FromMinutes(minutes)));
    }

    private static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso + "Z", System.Globalization.CultureInfo.InvariantCulture);

    private static RetentionItem Item(string id, string iso) => new(id, Utc(iso));

    private static List<RetentionItem> Dailies(DateTimeOffset first, int count)
        => Enumerable.Range(0, count).Select(i => first.AddDays(i)).Select(t => new RetentionItem($"snap-{t.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}", t)).ToList();

    private static List<RetentionItem> Hourlies(DateTimeOffset first, int count)
        => Enumerable.Range(0, count).Select(i => first.AddHours(i)).Select(t => new RetentionItem($"snap-{t.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}", t)).ToList();
}

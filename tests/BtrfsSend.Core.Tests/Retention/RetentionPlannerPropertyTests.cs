using BtrfsSend.Core.Retention;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Retention;

public sealed class RetentionPlannerPropertyTests
{
    [Property(MaxTest = 300)]
    public Property The_newest_item_always_survives() =>
        Prop.ForAll(RetentionScenario.Arbitrary, s =>
        {
            var plan = RetentionPlanner.Plan(s.Items, s.Policy, s.Now, s.ParentOf);
            var newest = s.Items.OrderByDescending(i => i.Time).ThenByDescending(i => i.Id, StringComparer.Ordinal).FirstOrDefault();
            return newest is null || plan.Decisions.Single(d => d.Id == newest.Id).Keep;
        });

    [Property(MaxTest = 300)]
    public Property Every_kept_incremental_keeps_its_stored_parent_and_a_missing_one_is_reported() =>
        Prop.ForAll(RetentionScenario.Arbitrary, s =>
        {
            var plan = RetentionPlanner.Plan(s.Items, s.Policy, s.Now, s.ParentOf);
            var kept = plan.Kept.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
            var stored = s.Items.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            return kept.All(id => s.ParentOf(id) is not { } parent
                || (stored.Contains(parent) ? kept.Contains(parent) : plan.Problems.Any(p => p.Contains(parent, StringComparison.Ordinal))));
        });

    [Property(MaxTest = 200)]
    public Property An_empty_policy_deletes_nothing() =>
        Prop.ForAll(RetentionScenario.Arbitrary, s =>
        {
            var plan = RetentionPlanner.Plan(s.Items, RetentionPolicy.Empty with { Within = TimeSpan.Zero }, s.Now, s.ParentOf);
            return plan.Decisions.Count == s.Items.Count
                && plan.Decisions.All(d => d.Keep && d.Reasons.Contains(RetentionPlanner.EmptyPolicyReason));
        });

    [Property(MaxTest = 200)]
    public Property The_plan_is_the_same_for_any_order_of_the_items() =>
        Prop.ForAll(RetentionScenario.Arbitrary, s =>
            Prop.ForAll(Gen.Shuffle(s.Items.ToArray()).ToArbitrary(), shuffled =>
                RetentionPlanner.Plan(shuffled, s.Policy, s.Now, s.ParentOf).Render()
                    == RetentionPlanner.Plan(s.Items, s.Policy, s.Now, s.ParentOf).Render()));

    [Property(MaxTest = 300)]
    public Property Raising_any_count_never_deletes_more() =>
        Prop.ForAll(RetentionScenario.Arbitrary, Gen.Choose(0, 4).ToArbitrary(), Gen.Choose(1, 5).ToArbitrary(), (s, which, more) =>
        {
            var p = s.Policy;
            var raised = which switch
            {
                0 => p with { Hourly = p.Hourly + more },
                1 => p with { Daily = p.Daily + more },
                2 => p with { Weekly = p.Weekly + more },
                3 => p with { Monthly = p.Monthly + more },
                _ => p with { Yearly = p.Yearly + more },
            };
            var before = RetentionPlanner.Plan(s.Items, p, s.Now, s.ParentOf).Kept.Select(d => d.Id);
            var after = RetentionPlanner.Plan(s.Items, raised, s.Now, s.ParentOf).Kept.Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
            // An empty policy keeps everything; raising a count makes it non-empty, which is not "more".
            return p.IsEmpty || before.All(after.Contains);
        });

    [Property(MaxTest = 200)]
    public Property Every_item_gets_exactly_one_decision_with_at_least_one_reason() =>
        Prop.ForAll(RetentionScenario.Arbitrary, s =>
        {
            var plan = RetentionPlanner.Plan(s.Items, s.Policy, s.Now, s.ParentOf);
            return plan.Decisions.Select(d => d.Id).Order(StringComparer.Ordinal)
                    .SequenceEqual(s.Items.Select(i => i.Id).Order(StringComparer.Ordinal), StringComparer.Ordinal)
                && plan.Decisions.All(d => d.Reasons.Count > 0);
        });

    [Property(MaxTest = 200)]
    public Property Each_period_rule_keeps_at_most_its_count_and_at_most_one_item_per_period() =>
        Prop.ForAll(RetentionScenario.Arbitrary, s =>
        {
            var plan = RetentionPlanner.Plan(s.Items, s.Policy, s.Now);
            var daily = plan.Decisions.Where(d => d.Reasons.Any(r => r.StartsWith("daily ", StringComparison.Ordinal))).ToList();
            return daily.Count <= s.Policy.Daily
                && daily.Select(d => d.Time.UtcDateTime.Date).Distinct().Count() == daily.Count;
        });
}

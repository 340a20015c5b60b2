using BtrfsSend.Core.Retention;
using FsCheck;
using FsCheck.Fluent;

namespace BtrfsSend.Core.Tests.Retention;

/// <summary>Random items, parent links and policies for the planner's property tests.</summary>
internal sealed record RetentionScenario(IReadOnlyList<RetentionItem> Items, IReadOnlyDictionary<string, string> Parents, RetentionPolicy Policy, DateTimeOffset Now)
{
    public static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public string? ParentOf(string id) => Parents.TryGetValue(id, out var p) ? p : null;

    public override string ToString()
        => $"{Items.Count} items, {Parents.Count} incrementals, {Policy}, now {Now:O}";

    public static Gen<RetentionPolicy> Policies { get; } =
        from hourly in Count
        from daily in Count
        from weekly in Count
        from monthly in Count
        from yearly in Count
        from within in Gen.Frequency((3, Gen.Constant<TimeSpan?>(null)), (1, Gen.Choose(0, 24 * 60).Select(h => (TimeSpan?)TimeSpan.FromHours(h))))
        select new RetentionPolicy(hourly, daily, weekly, monthly, yearly, within);

    public static Arbitrary<RetentionScenario> Arbitrary { get; } = Scenarios().ToArbitrary();

    private static Gen<int> Count => Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Choose(1, 12)));

    private static Gen<RetentionScenario> Scenarios() =>
        from span in Gen.Elements(48, 24 * 60, 24 * 800)
        from hours in Gen.Choose(0, span).ArrayOf()
        from links in Gen.Choose(-3, hours.Length).ArrayOf(hours.Length)
        from policy in Policies
        from nowHours in Gen.Choose(span - 24, span + (24 * 30))
        select Build(hours, links, policy, Start.AddHours(nowHours));

    private static RetentionScenario Build(int[] hours, int[] links, RetentionPolicy policy, DateTimeOffset now)
    {
        var items = hours.Select((h, i) => new RetentionItem($"snap-{i:D4}", Start.AddHours(h).AddMinutes(i % 60))).ToList();
        var parents = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < links.Length; i++)
        {
            // < 0: a full stream; == count: a parent that is not stored; otherwise any stored item.
            if (links[i] >= 0)
            {
                parents[items[i].Id] = links[i] == items.Count ? $"gone-{i:D4}" : items[links[i]].Id;
            }
        }

        return new RetentionScenario(items, parents, policy, now);
    }
}

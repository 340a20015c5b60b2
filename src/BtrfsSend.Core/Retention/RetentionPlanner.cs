using System.Collections.ObjectModel;
using System.Globalization;

namespace BtrfsSend.Core.Retention;

/// <summary>
/// The pure retention planner, documented with worked examples in
/// docs/retention.md. Same inputs, same plan, whatever the input order.
/// </summary>
/// <remarks>
/// Period rules work like restic's <c>--keep-daily</c> and friends: each rule on its own keeps the
/// newest item of each of the last N periods that have an item, and one item may be kept by several
/// rules (all of its reasons are listed). borg instead lets a later rule skip items an earlier rule
/// already kept; we do not, so that raising one count can never change what another count keeps.
/// </remarks>
public static class RetentionPlanner
{
    public const string NewestReason = "newest";
    public const string EmptyPolicyReason = "policy is empty: nothing is deleted";
    public const string NotKeptReason = "not in any kept period";

    private static readonly ReadOnlyCollection<string> NotKept = new([NotKeptReason]);

    private enum Period
    {
        Hourly,
        Daily,
        Weekly,
        Monthly,
        Yearly,
    }

    /// <summary>
    /// Decides keep or delete for every item. Order: time descending, ties broken by
    /// <see cref="RetentionItem.Id"/> (ordinally larger first), all in UTC.
    /// </summary>
    /// <param name="items">Every item; ids must be unique.</param>
    /// <param name="policy">The counts and window; an empty policy keeps everything.</param>
    /// <param name="now">The clock, for <see cref="RetentionPolicy.Within"/>.</param>
    /// <param name="parentOf">
    /// For encrypted streams: the parent of an incremental, null for a full. Every ancestor of every
    /// kept item is then kept too ("ancestor of X"); a parent that is not among the items is reported
    /// in <see cref="RetentionPlan.Problems"/>. Null for received subvolumes, which need no ancestors.
    /// </param>
    /// <param name="pinned">Items that must never be deleted, with the reason (the producer's state-file snapshot).</param>
    public static RetentionPlan Plan(
        IReadOnlyList<RetentionItem> items,
        RetentionPolicy policy,
        DateTimeOffset now,
        Func<string, string?>? parentOf = null,
        IReadOnlyDictionary<string, string>? pinned = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(policy);
        var problem = policy.Problem();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(policy));
        }

        var sorted = Sort(items);
        var reasons = new List<string>?[sorted.Length];
        if (policy.IsEmpty)
        {
            for (var i = 0; i < sorted.Length; i++)
            {
                reasons[i] = [EmptyPolicyReason];
            }
        }
        else
        {
            ApplyRules(sorted, reasons, policy, now);
        }

        var positions = new Dictionary<string, int>(sorted.Length, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            positions[sorted[i].Id] = i;
        }

        if (pinned is not null)
        {
            foreach (var (id, why) in pinned.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (positions.TryGetValue(id, out var at))
                {
                    (reasons[at] ??= []).Add(why);
                }
            }
        }

        var problems = parentOf is null ? [] : AddAncestors(sorted, reasons, positions, parentOf);
        var decisions = new RetentionDecision[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            decisions[i] = reasons[i] is { } why
                ? new RetentionDecision(sorted[i].Id, sorted[i].Time, true, why.AsReadOnly())
                : new RetentionDecision(sorted[i].Id, sorted[i].Time, false, NotKept);
        }

        return new RetentionPlan(decisions.AsReadOnly(), problems.AsReadOnly());
    }

    private static RetentionItem[] Sort(IReadOnlyList<RetentionItem> items)
    {
        var sorted = new RetentionItem[items.Count];
        var seen = new HashSet<string>(items.Count, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Length; i++)
        {
            var item = items[i] ?? throw new ArgumentException($"item {i} is null", nameof(items));
            ArgumentNullException.ThrowIfNull(item.Id);
            if (!seen.Add(item.Id))
            {
                throw new ArgumentException($"item id '{Naming.NameText.Printable(item.Id)}' appears twice; ids must be unique", nameof(items));
            }

            sorted[i] = item;
        }

        Array.Sort(sorted, static (a, b) =>
        {
            var byTime = b.Time.UtcTicks.CompareTo(a.Time.UtcTicks);
            return byTime != 0 ? byTime : string.CompareOrdinal(b.Id, a.Id);
        });
        return sorted;
    }

    private static void ApplyRules(RetentionItem[] sorted, List<string>?[] reasons, RetentionPolicy policy, DateTimeOffset now)
    {
        if (sorted.Length == 0)
        {
            return;
        }

        reasons[0] = [NewestReason];
        if (policy.Within is { } within && within > TimeSpan.Zero)
        {
            var reason = $"within {RetentionPolicy.FormatDuration(within)}";
            var oldest = now.UtcTicks - within.Ticks;
            for (var i = 0; i < sorted.Length && sorted[i].Time.UtcTicks >= oldest; i++)
            {
                (reasons[i] ??= []).Add(reason);
            }
        }

        KeepPeriods(sorted, reasons, Period.Hourly, policy.Hourly);
        KeepPeriods(sorted, reasons, Period.Daily, policy.Daily);
        KeepPeriods(sorted, reasons, Period.Weekly, policy.Weekly);
        KeepPeriods(sorted, reasons, Period.Monthly, policy.Monthly);
        KeepPeriods(sorted, reasons, Period.Yearly, policy.Yearly);
    }

    private static void KeepPeriods(RetentionItem[] sorted, List<string>?[] reasons, Period period, int count)
    {
        var kept = 0;
        long? last = null;
        for (var i = 0; i < sorted.Length && kept < count; i++)
        {
            var time = sorted[i].Time.UtcDateTime;
            var key = Key(period, time);
            if (key == last)
            {
                continue;
            }

            last = key;
            kept++;
            (reasons[i] ??= []).Add(string.Create(CultureInfo.InvariantCulture, $"{Name(period)} {Label(period, time)} ({kept} of {count})"));
        }
    }

    private static long Key(Period period, DateTime utc) => period switch
    {
        Period.Hourly => utc.Ticks / TimeSpan.TicksPerHour,
        Period.Daily => utc.Ticks / TimeSpan.TicksPerDay,
        // Day 0 (0001-01-01) is a Monday, so whole weeks since then are ISO weeks (Monday to Sunday).
        Period.Weekly => utc.Ticks / TimeSpan.TicksPerDay / 7,
        Period.Monthly => (utc.Year * 12L) + utc.Month,
        _ => utc.Year,
    };

    private static string Name(Period period) => period switch
    {
        Period.Hourly => "hourly",
        Period.Daily => "daily",
        Period.Weekly => "weekly",
        Period.Monthly => "monthly",
        _ => "yearly",
    };

    private static string Label(Period period, DateTime utc) => period switch
    {
        Period.Hourly => utc.ToString("yyyy-MM-dd'T'HH", CultureInfo.InvariantCulture),
        Period.Daily => utc.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        Period.Weekly => string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(utc)}-W{ISOWeek.GetWeekOfYear(utc):00}"),
        Period.Monthly => utc.ToString("yyyy-MM", CultureInfo.InvariantCulture),
        _ => utc.ToString("yyyy", CultureInfo.InvariantCulture),
    };

    private static List<string> AddAncestors(RetentionItem[] sorted, List<string>?[] reasons, Dictionary<string, int> positions, Func<string, string?> parentOf)
    {
        var problems = new List<string>();
        var work = new Queue<int>();
        var keptFor = new string?[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            if (reasons[i] is not null)
            {
                work.Enqueue(i);
            }
        }

        // Each item enters the queue at most once (when it becomes kept), so this is linear and
        // ends even on a cyclic parent map; ChainResolver reports cycles.
        while (work.TryDequeue(out var child))
        {
            var id = sorted[child].Id;
            var parent = parentOf(id);
            if (parent is null)
            {
                continue;
            }

            if (!positions.TryGetValue(parent, out var at))
            {
                problems.Add($"{Naming.NameText.Printable(id)} is kept but its parent {Naming.NameText.Printable(parent)} is not stored: its chain is broken and it cannot be restored");
                continue;
            }

            if (reasons[at] is null)
            {
                // Name the item the policy kept, not the intermediate incremental.
                var origin = keptFor[child] ?? id;
                keptFor[at] = origin;
                reasons[at] = [$"ancestor of {origin}"];
                work.Enqueue(at);
            }
        }

        return problems;
    }
}

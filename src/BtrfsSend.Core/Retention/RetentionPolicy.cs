using System.Globalization;

namespace BtrfsSend.Core.Retention;

/// <summary>
/// How many periods of each kind to keep (KEEP_HOURLY, KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY,
/// KEEP_YEARLY) and an optional KEEP_WITHIN window. A count of 0 keeps nothing for that kind. A
/// policy with every count 0 and no window is empty, and an empty policy deletes nothing.
/// </summary>
public sealed record RetentionPolicy(int Hourly, int Daily, int Weekly, int Monthly, int Yearly, TimeSpan? Within = null)
{
    /// <summary>The policy that keeps everything.</summary>
    public static RetentionPolicy Empty { get; } = new(0, 0, 0, 0, 0);

    /// <summary>True when no rule would keep anything: such a policy means "delete nothing".</summary>
    public bool IsEmpty => Hourly == 0 && Daily == 0 && Weekly == 0 && Monthly == 0 && Yearly == 0
        && (Within is null || Within.Value <= TimeSpan.Zero);

    /// <summary>Why this policy is invalid (a negative count or window), or null.</summary>
    public string? Problem()
    {
        foreach (var (name, count) in new[] { ("hourly", Hourly), ("daily", Daily), ("weekly", Weekly), ("monthly", Monthly), ("yearly", Yearly) })
        {
            if (count < 0)
            {
                return $"keep-{name} is {count}; allowed: 0 or more (0 keeps nothing for that period)";
            }
        }

        return Within is { } w && w < TimeSpan.Zero
            ? $"keep-within is negative ({w}); allowed: a duration of 0 or more"
            : null;
    }

    /// <summary>A duration as the shortest of <c>7d</c>, <c>36h</c>, <c>90m</c>, <c>45s</c> that is exact.</summary>
    public static string FormatDuration(TimeSpan span)
    {
        var ticks = span.Ticks;
        return ticks % TimeSpan.TicksPerDay == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ticks / TimeSpan.TicksPerDay}d")
            : ticks % TimeSpan.TicksPerHour == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ticks / TimeSpan.TicksPerHour}h")
            : ticks % TimeSpan.TicksPerMinute == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ticks / TimeSpan.TicksPerMinute}m")
            : string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds}s");
    }
}

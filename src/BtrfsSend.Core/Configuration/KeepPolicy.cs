namespace BtrfsSend.Core.Configuration;

/// <summary>
/// How many restore points to keep per period kind (DESIGN.md §7), from <c>KEEP_*</c> on
/// backup-srv or <c>LOCAL_KEEP_*</c> on prod-srv. Counts are never negative; a missing key is 0.
/// </summary>
/// <remarks>
/// An empty policy (<see cref="IsEmpty"/>: every count 0 and no window) means <b>delete nothing</b>,
/// never "keep nothing": a forgotten or mistyped setting must not wipe the last copy of the data.
/// The planner must check <see cref="IsEmpty"/> before anything else.
/// </remarks>
public sealed record KeepPolicy(int Hourly, int Daily, int Weekly, int Monthly, int Yearly, TimeSpan? Within)
{
    /// <summary>No rule at all: prune deletes nothing.</summary>
    public static KeepPolicy Empty { get; } = new(0, 0, 0, 0, 0, null);

    /// <summary>True when no rule is set, which means delete nothing.</summary>
    public bool IsEmpty => Hourly == 0 && Daily == 0 && Weekly == 0 && Monthly == 0 && Yearly == 0 && Within is null;
}

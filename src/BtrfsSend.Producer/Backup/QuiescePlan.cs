namespace BtrfsSend.Producer.Backup;

/// <summary>
/// What <see cref="Quiescer.PlanAsync"/> found before the window: every listed unit with the state
/// systemctl printed, and the ones that will be stopped (those that may be running), in order.
/// </summary>
internal sealed record QuiescePlan(IReadOnlyList<string> Services, IReadOnlyList<string> ToStop, IReadOnlyList<string> States)
{
    public static QuiescePlan Empty { get; } = new([], [], []);

    /// <summary>E.g. <c>nginx (active: stopped), php-fpm (inactive: left alone)</c>.</summary>
    public string Render() => Services.Count == 0
        ? "(none)"
        : string.Join(", ", Services.Select((s, i) => $"{s} ({States[i]}: {(ToStop.Contains(s) ? "stopped" : "left alone")})"));
}

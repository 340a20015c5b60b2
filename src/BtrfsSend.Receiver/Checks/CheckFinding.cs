namespace BtrfsSend.Receiver.Checks;

/// <summary>One thing the check found, for one set or (Set null) the store as a whole.</summary>
internal sealed record CheckFinding(CheckStatus Status, string? Set, string Message)
{
    /// <summary>How bad, for "worst first": CRITICAL, then UNKNOWN, then WARNING, then OK.</summary>
    public int Severity => Status switch
    {
        CheckStatus.Critical => 3,
        CheckStatus.Unknown => 2,
        CheckStatus.Warning => 1,
        _ => 0,
    };

    public string Render() => $"{Label(Status)}: {(Set is null ? "" : Set + ": ")}{Message}";

    public static string Label(CheckStatus status) => status.ToString().ToUpperInvariant();
}

using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Audit;

/// <summary>
/// The verdict of <c>audit</c>: a monitoring outcome (0..3), the one line printed after
/// <c>OK:</c>/<c>CRITICAL:</c>..., and every finding (the line names the first).
/// </summary>
internal sealed record AuditReport(DrillOutcome Outcome, string Line, IReadOnlyList<string> Findings)
{
    /// <summary>The newest acknowledged upload of the set, when the ledger has one.</summary>
    public string? Newest { get; init; }

    /// <summary>Links in the newest's chain that were compared (newest included).</summary>
    public int ChainLength { get; init; }

    /// <summary>True when the newest stream's bytes were fetched and their SHA-256 compared.</summary>
    public bool HashChecked { get; init; }
}

namespace BtrfsSend.Producer.Restore;

/// <summary>The status word monitoring expects at the start of the line.</summary>
internal static class DrillOutcomeText
{
    public static string Of(DrillOutcome outcome) => outcome switch
    {
        DrillOutcome.Ok => "OK",
        DrillOutcome.Warning => "WARNING",
        DrillOutcome.Critical => "CRITICAL",
        _ => "UNKNOWN",
    };
}

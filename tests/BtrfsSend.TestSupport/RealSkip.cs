namespace BtrfsSend.TestSupport;

internal static class RealSkip
{
    /// <summary>The skip reason, or null to run. Never skips in CI: there a missing tool must fail.</summary>
    public static string? Reason(bool needsRoot, IEnumerable<string> tools)
        => Prerequisites.IsCi ? null : Prerequisites.Missing(needsRoot, tools);
}

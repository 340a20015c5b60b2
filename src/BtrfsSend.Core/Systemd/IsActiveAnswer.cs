using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Core.Systemd;

/// <summary>
/// Reads the answer of <c>systemctl is-active -- UNIT</c> (without --quiet: it prints the unit's
/// state on stdout and exits 0 only for active/reloading). Only the printed states <c>inactive</c>
/// and <c>failed</c> mean "not running", and <c>unknown</c> (older systemd's answer for a unit it
/// does not know) "not known"; any other state word means the unit may be running. Anything else
/// — no state printed, as when systemctl cannot reach systemd ("Failed to connect to bus") — is a
/// prerequisite failure: it never passes for "not running", so quiescing is never skipped silently.
/// </summary>
public static class IsActiveAnswer
{
    /// <summary>The state words systemctl prints (systemd's unit active states plus "unknown").</summary>
    private static readonly string[] MayBeRunning = ["active", "reloading", "activating", "deactivating", "maintenance", "refreshing"];

    /// <summary>Throws <see cref="PrerequisiteException"/> when the answer is not a unit state.</summary>
    public static UnitActivity Interpret(string unit, ToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var state = result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        if (result.ExitCode == 0 || MayBeRunning.Contains(state, StringComparer.Ordinal))
        {
            return UnitActivity.Running;
        }

        switch (state)
        {
            case "inactive" or "failed":
                return UnitActivity.NotRunning;
            case "unknown":
                return UnitActivity.NotKnown;
        }

        var stderr = result.StandardErrorTail.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var said = state.Length > 0 ? $"printed '{NameText.Printable(state)}'"
            : stderr.Length > 0 ? $"said '{NameText.Printable(string.Join(" | ", stderr.TakeLast(2)))}'"
            : "printed nothing";
        throw new PrerequisiteException(
            $"systemctl cannot tell whether {unit} is running (systemctl is-active exited {result.ExitCode} and {said}); " +
            "quiescing cannot be trusted, so nothing was stopped, snapshotted or recorded; fix systemctl (is systemd reachable?) and run again");
    }
}

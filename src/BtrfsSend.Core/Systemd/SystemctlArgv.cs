namespace BtrfsSend.Core.Systemd;

/// <summary>Pure argv builders for systemctl (the quiesce step).</summary>
public static class SystemctlArgv
{
    public const string Systemctl = "systemctl";

    /// <summary>
    /// <c>systemctl is-active UNIT</c>: prints the unit's state and exits 0 when it is active
    /// (read by <see cref="IsActiveAnswer"/>; no --quiet, the printed state is what tells "inactive"
    /// from "systemctl could not ask systemd").
    /// </summary>
    public static string[] IsActive(string unit) => [Systemctl, "is-active", "--", unit];

    /// <summary><c>systemctl stop UNIT</c>.</summary>
    public static string[] Stop(string unit) => [Systemctl, "stop", "--", unit];

    /// <summary><c>systemctl start UNIT</c>.</summary>
    public static string[] Start(string unit) => [Systemctl, "start", "--", unit];
}

namespace BtrfsSend.Core.Services;

/// <summary>Pure argv builders for systemctl (the quiesce step).</summary>
public static class SystemctlArgv
{
    public const string Systemctl = "systemctl";

    /// <summary><c>systemctl is-active --quiet UNIT</c>: exit 0 when running.</summary>
    public static string[] IsActive(string unit) => [Systemctl, "is-active", "--quiet", "--", unit];

    /// <summary><c>systemctl stop UNIT</c>.</summary>
    public static string[] Stop(string unit) => [Systemctl, "stop", "--", unit];

    /// <summary><c>systemctl start UNIT</c>.</summary>
    public static string[] Start(string unit) => [Systemctl, "start", "--", unit];
}

namespace BtrfsSend.TestSupport;

/// <summary>
/// Decides whether a real-tool test can run here. On a laptop a missing prerequisite skips the
/// test with the reason; in CI (<c>CI=true</c>) nothing is skipped, so a missing prerequisite
/// fails the test loudly instead of passing silently.
/// </summary>
public static class Prerequisites
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    /// <summary>Why the test cannot run here (missing root or tools), or null.</summary>
    public static string? Missing(bool needsRoot, IEnumerable<string> tools)
    {
        var problems = new List<string>();
        if (needsRoot && !IsRoot)
        {
            problems.Add("needs root (loop mounts, sshd, sudo, useradd)");
        }

        var missingTools = tools.Where(t => FindOnPath(t) is null).ToList();
        if (missingTools.Count > 0)
        {
            problems.Add($"missing tools: {string.Join(", ", missingTools)} (scripts/test.sh installs them)");
        }

        if (needsRoot && !File.Exists("/dev/loop-control") && tools.Contains("mkfs.btrfs"))
        {
            problems.Add("no /dev/loop-control");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Throws with the reason when prerequisites are missing (used by fixtures, so CI fails clearly).</summary>
    public static void Require(bool needsRoot, params string[] tools)
    {
        var missing = Missing(needsRoot, tools);
        if (missing is not null)
        {
            throw new InvalidOperationException($"Prerequisites missing: {missing}");
        }
    }

    /// <summary>The absolute path of <paramref name="tool"/> on PATH (plus sbin dirs), or null.</summary>
    public static string? FindOnPath(string tool)
    {
        if (tool.StartsWith('/'))
        {
            return File.Exists(tool) ? tool : null;
        }

        var path = (Environment.GetEnvironmentVariable("PATH") ?? "") + ":/usr/local/sbin:/usr/sbin:/sbin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}

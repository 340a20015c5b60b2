namespace BtrfsSend.TestSupport;

/// <summary>Reads /proc/self/mountinfo so fixtures only ever touch mounts under their own directory.</summary>
public static class MountTable
{
    public static IReadOnlyList<string> MountPoints()
    {
        var result = new List<string>();
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4)
            {
                result.Add(Unescape(fields[4]));
            }
        }

        return result;
    }

    public static bool IsMountPoint(string dirPath) => MountPoints().Contains(Path.TrimEndingDirectorySeparator(dirPath));

    public static bool HasMountUnder(string dirPath)
    {
        var prefix = Path.TrimEndingDirectorySeparator(dirPath) + "/";
        return MountPoints().Any(m => m.StartsWith(prefix, StringComparison.Ordinal) || m == dirPath);
    }

    private static string Unescape(string field) => field
        .Replace("\\040", " ", StringComparison.Ordinal)
        .Replace("\\011", "\t", StringComparison.Ordinal)
        .Replace("\\012", "\n", StringComparison.Ordinal)
        .Replace("\\134", "\\", StringComparison.Ordinal);
}

using System.Text;

namespace BtrfsSend.Receiver.Luks;

/// <summary>Whether a directory is a mount point, from <c>/proc/self/mountinfo</c> (field 5, octal escapes as in proc(5)).</summary>
internal static class MountInfo
{
    public static bool IsMountPoint(string dirPath, string mountInfoFilePath = "/proc/self/mountinfo")
    {
        var wanted = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dirPath));
        foreach (var line in File.ReadLines(mountInfoFilePath))
        {
            var fields = line.Split(' ');
            if (fields.Length > 4 && Unescape(fields[4]) == wanted)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Undoes the kernel's <c>\ooo</c> escaping of space, tab, newline and backslash.</summary>
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length + 0 && IsOctal(field, i + 1))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static bool IsOctal(string s, int start)
        => start + 3 <= s.Length && s.Substring(start, 3).All(c => c is >= '0' and <= '7');
}

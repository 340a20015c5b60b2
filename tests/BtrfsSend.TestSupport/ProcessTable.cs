namespace BtrfsSend.TestSupport;

/// <summary>
/// Finds processes by their exact argv in /proc, so a test can signal the one process it means
/// (e.g. the receiver started for its own config file) and never anything else by name.
/// </summary>
public static class ProcessTable
{
    /// <summary>PIDs whose argv (from /proc/PID/cmdline) satisfies <paramref name="match"/>.</summary>
    public static IReadOnlyList<int> Find(Func<IReadOnlyList<string>, bool> match)
    {
        ArgumentNullException.ThrowIfNull(match);
        var result = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string cmdline;
            try
            {
                cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
            }
            catch (IOException)
            {
                continue; // exited while we looked
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            var argv = cmdline.Split('\0', StringSplitOptions.None);
            if (argv.Length > 0 && argv[^1].Length == 0)
            {
                argv = argv[..^1];
            }

            if (argv.Length > 0 && match(argv))
            {
                result.Add(pid);
            }
        }

        return result;
    }

    /// <summary>Whether <paramref name="pid"/> still exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}

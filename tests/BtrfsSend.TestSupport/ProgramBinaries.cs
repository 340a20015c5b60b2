namespace BtrfsSend.TestSupport;

/// <summary>Paths of the two built executables (apphosts copied beside the test assembly).</summary>
public static class ProgramBinaries
{
    public static string Producer => Find("btrfs-send-backup");

    public static string Receiver => Find("btrfs-backup-receive");

    private static string Find(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, name);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{name} was not built next to the tests ({path}); reference its project", path);
    }
}

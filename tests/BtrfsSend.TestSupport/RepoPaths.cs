namespace BtrfsSend.TestSupport;

/// <summary>Paths inside the repository (found by walking up to BtrfsSend.sln).</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BtrfsSend.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"BtrfsSend.sln not found above {AppContext.BaseDirectory}");
    }
}

namespace BtrfsSend.TestSupport;

/// <summary>A unique directory under /tmp/btrfs-send-tests, removed on dispose (never across mounts).</summary>
public sealed class TempDir : IDisposable
{
    public const string Root = "/tmp/btrfs-send-tests";

    public TempDir(string label = "t")
    {
        Directory.CreateDirectory(Root);
        // 0755 so that unprivileged users (the sshd ingest user) can traverse into fixture homes.
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
        DirPath = Path.Combine(Root, $"{label}-{Guid.NewGuid().ToString("N")[..10]}");
        Directory.CreateDirectory(DirPath);
        File.SetUnixFileMode(DirPath, (UnixFileMode)0b111_101_101);
    }

    public string DirPath { get; }

    public string Sub(params string[] parts) => Path.Combine([DirPath, .. parts]);

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(DirPath) && !MountTable.HasMountUnder(DirPath))
            {
                Directory.Delete(DirPath, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover temp dir is harmless; a failed test must show its own error.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

using System.Security.Cryptography;
using System.Text;

namespace BtrfsSend.TestSupport;

/// <summary>
/// A loop-mounted btrfs of a given size under a unique temp dir. Helpers create subvolumes,
/// write files, snapshot read-only and read subvolume facts. Dispose always unmounts (lazily if
/// busy) and removes its own files; it never touches a loop device or mount it did not create:
/// it finds its loop device by its own image path (<c>losetup -j</c>), never by number.
/// </summary>
public sealed class BtrfsLoopFixture : IAsyncDisposable
{
    public const long DefaultSizeBytes = 256L * 1024 * 1024;

    private readonly TempDir _dir;
    private bool _mounted;

    private BtrfsLoopFixture(TempDir dir, string label)
    {
        _dir = dir;
        Label = label;
        ImageFilePath = dir.Sub($"{label}.img");
        MountDirPath = dir.Sub("mnt");
    }

    public string Label { get; }

    public string ImageFilePath { get; }

    /// <summary>Where the filesystem is mounted.</summary>
    public string MountDirPath { get; }

    /// <summary>The fixture's own temp dir (beside, not inside, the mount).</summary>
    public string DirPath => _dir.DirPath;

    /// <summary>Creates and mounts a fresh btrfs (≥ 256 MiB: mkfs.btrfs refuses smaller images without --mixed).</summary>
    public static async Task<BtrfsLoopFixture> CreateAsync(string label = "btrfs", long sizeBytes = DefaultSizeBytes)
    {
        Prerequisites.Require(needsRoot: true, "mkfs.btrfs", "btrfs", "mount", "umount", "losetup");
        var fixture = new BtrfsLoopFixture(new TempDir($"btrfs-{label}"), label);
        try
        {
            await using (var image = File.Create(fixture.ImageFilePath))
            {
                image.SetLength(sizeBytes);
            }

            await Run.OutAsync("mkfs.btrfs", "-q", "-f", "-L", $"bst-{label}", fixture.ImageFilePath);
            Directory.CreateDirectory(fixture.MountDirPath);
            await Run.OutAsync("mount", "-o", "loop", fixture.ImageFilePath, fixture.MountDirPath);
            fixture._mounted = true;
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    /// <summary>An absolute path inside the mounted filesystem.</summary>
    public string PathOf(string relativePath) => Path.Combine(MountDirPath, relativePath);

    public async Task<string> CreateSubvolumeAsync(string relativePath)
    {
        var path = PathOf(relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await Run.OutAsync("btrfs", "subvolume", "create", path);
        return path;
    }

    /// <summary>Takes a read-only snapshot of <paramref name="sourcePath"/> at <paramref name="relativeTarget"/>.</summary>
    public async Task<string> SnapshotReadOnlyAsync(string sourcePath, string relativeTarget)
    {
        var target = PathOf(relativeTarget);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await Run.OutAsync("btrfs", "subvolume", "snapshot", "-r", sourcePath, target);
        return target;
    }

    /// <summary>Relative paths of every subvolume (<c>btrfs subvolume list -o</c> semantics: all below the top).</summary>
    public async Task<IReadOnlyList<string>> ListSubvolumesAsync()
    {
        var output = await Run.OutAsync("btrfs", "subvolume", "list", MountDirPath);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line[(line.IndexOf(" path ", StringComparison.Ordinal) + 6)..])
            .ToList();
    }

    /// <summary>UUID, received UUID ("-" when none) and read-only flag of a subvolume.</summary>
    public static async Task<SubvolumeFacts> ShowAsync(string subvolumePath)
    {
        var show = await Run.OutAsync("btrfs", "subvolume", "show", subvolumePath);
        string Field(string name) => show.Split('\n')
            .Select(l => l.Trim())
            .First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        var ro = (await Run.OutAsync("btrfs", "property", "get", "-ts", subvolumePath, "ro")).Trim();
        return new SubvolumeFacts(Field("UUID"), Field("Received UUID"), ro == "ro=true");
    }

    /// <summary>Writes a file (creating directories) and returns its path.</summary>
    public static string WriteFile(string path, byte[] content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>
    /// Fills a directory with varied content: nested dirs, names with spaces and quotes, a
    /// symlink, a hardlink, a sparse file, random and text data, odd owners and modes.
    /// </summary>
    public static void PopulateSample(string root, int seed = 1)
    {
        var random = new Random(seed);
        byte[] RandomBytes(int n)
        {
            var b = new byte[n];
            random.NextBytes(b);
            return b;
        }

        WriteFile(Path.Combine(root, "etc/hostname"), Encoding.UTF8.GetBytes($"sample-{seed}\n"));
        WriteFile(Path.Combine(root, "var/lib/app/data.bin"), RandomBytes(3 * 1024 * 1024));
        WriteFile(Path.Combine(root, "dir with spaces/file $x;'q'.txt"), Encoding.UTF8.GetBytes("quote\"s\nnewline"));
        WriteFile(Path.Combine(root, "var/log/app.log"), Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"line of text {seed}\n", 20000))));
        File.CreateSymbolicLink(Path.Combine(root, "var/link"), "../etc/hostname");
        HardLink(Path.Combine(root, "etc/hostname"), Path.Combine(root, "etc/hostname.hardlink"));
        using (var sparse = File.Create(Path.Combine(root, "var/sparse.img")))
        {
            sparse.SetLength(50L * 1024 * 1024);
            sparse.Position = 10L * 1024 * 1024;
            sparse.WriteByte((byte)'X');
        }

        Directory.CreateDirectory(Path.Combine(root, "emptydir"));
        File.SetUnixFileMode(Path.Combine(root, "emptydir"), (UnixFileMode)0b1_111_111_111);
        File.SetUnixFileMode(Path.Combine(root, "var/lib/app/data.bin"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Chown(Path.Combine(root, "etc/hostname"), 1234, 5678);
    }

    public async ValueTask DisposeAsync()
    {
        if (_mounted || MountTable.IsMountPoint(MountDirPath))
        {
            var result = await Run.TryAsync("umount", MountDirPath);
            if (!result.IsSuccess)
            {
                // Busy (exit 32): detach lazily; mount -o loop set autoclear, so the loop device is freed later.
                await Run.TryAsync("umount", "-l", MountDirPath);
            }

            _mounted = false;
        }

        // Fallback when autoclear did not release the device: detach only devices backed by OUR image.
        if (File.Exists(ImageFilePath))
        {
            var devices = await Run.TryAsync("losetup", "-n", "-O", "NAME", "-j", ImageFilePath);
            foreach (var device in devices.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await Run.TryAsync("losetup", "-d", device);
            }
        }

        _dir.Dispose();
    }

    private static void HardLink(string existing, string link)
    {
        if (Link(existing, link) != 0)
        {
            throw new IOException($"link({existing}, {link}) failed");
        }
    }

    private static void Chown(string path, int uid, int gid)
    {
        if (ChownNative(path, uid, gid) != 0)
        {
            throw new IOException($"chown({path}) failed");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int Link([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string existing, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string link);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int ChownNative([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int uid, int gid);
}

using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Btrfs;

/// <summary>
/// A real 256 MiB btrfs on a loop image under a <see cref="TempDir"/>, mounted for one test and
/// always unmounted on dispose. Needs root, mkfs.btrfs and btrfs.
/// </summary>
internal sealed class RealBtrfsVolume : IAsyncDisposable
{
    private readonly TempDir _dir;
    private bool _isMounted;

    private RealBtrfsVolume(TempDir dir)
    {
        _dir = dir;
        MountDirPath = dir.Sub("mnt");
    }

    public string MountDirPath { get; }

    /// <param name="mountOptions">Extra <c>mount -o</c> options, e.g. <c>compress=zstd</c>.</param>
    public static async Task<RealBtrfsVolume> CreateAsync(string? mountOptions = null)
    {
        var volume = new RealBtrfsVolume(new TempDir("btrfs-vol"));
        try
        {
            var image = volume._dir.Sub("fs.img");
            Directory.CreateDirectory(volume.MountDirPath);
            await Run.OutAsync("truncate", "-s", "256M", image);
            await Run.OutAsync("mkfs.btrfs", "-q", image);
            await Run.OutAsync("mount", "-o", mountOptions is null ? "loop" : $"loop,{mountOptions}", image, volume.MountDirPath);
            volume._isMounted = true;
            return volume;
        }
        catch
        {
            await volume.DisposeAsync();
            throw;
        }
    }

    public string PathOf(string name) => Path.Combine(MountDirPath, name);

    public Task CreateSubvolumeAsync(string name) => Run.OutAsync("btrfs", "subvolume", "create", PathOf(name));

    public Task SnapshotAsync(string source, string name) => Run.OutAsync("btrfs", "subvolume", "snapshot", "-r", PathOf(source), PathOf(name));

    /// <summary>Runs the real <c>btrfs send</c> into a file outside the volume and returns its bytes.</summary>
    public async Task<byte[]> SendAsync(IReadOnlyList<string> snapshots, string? parent = null, params string[] flags)
    {
        var output = _dir.Sub($"send-{Guid.NewGuid():N}.stream");
        var argv = new List<string> { "btrfs", "send", "-q" };
        argv.AddRange(flags);
        if (parent is not null)
        {
            argv.AddRange(["-p", PathOf(parent)]);
        }

        argv.AddRange(["-f", output]);
        argv.AddRange(snapshots.Select(PathOf));
        await Run.OutAsync([.. argv]);
        return await File.ReadAllBytesAsync(output);
    }

    public async ValueTask DisposeAsync()
    {
        if (_isMounted)
        {
            var result = await Run.TryAsync("umount", MountDirPath);
            if (!result.IsSuccess)
            {
                await Run.TryAsync("umount", "-l", MountDirPath);
            }

            _isMounted = false;
        }

        _dir.Dispose();
    }
}

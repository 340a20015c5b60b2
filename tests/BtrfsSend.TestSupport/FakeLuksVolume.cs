using System.Globalization;

namespace BtrfsSend.TestSupport;

/// <summary>
/// "A LUKS volume" where device-mapper does not exist (docs/architecture.md): a real btrfs image with a
/// <c>received/</c> directory, and a LUKS_TOOLS_DIR holding a fake <c>cryptsetup</c> (appends its
/// argv, its environment and the byte count of its stdin to <see cref="CallLogFilePath"/>; keeps
/// "opened" as a marker file), a fake <c>mount</c> that loop-mounts the image only for
/// <c>/dev/mapper/NAME</c> while "opened", and a logging <c>umount</c> that runs the real one.
/// Everything after the unlock is real btrfs. Give each test its own instance (unique LUKS_NAME).
/// </summary>
public sealed class FakeLuksVolume : IAsyncDisposable
{
    private readonly TempDir _dir = new("luks");

    private FakeLuksVolume()
    {
        Name = "bst_" + Path.GetFileName(_dir.DirPath).Replace('-', '_');
    }

    public string Name { get; }

    public string DevicePath => "/dev/fake-luks-device";

    public string ImageFilePath => _dir.Sub("volume.img");

    public string MountDirPath => _dir.Sub("mnt");

    public string ReceivedRootDirPath => _dir.Sub("mnt", "received");

    public string ToolsDirPath => _dir.Sub("tools");

    public string LeaseDirPath => _dir.Sub("run");

    public string CallLogFilePath => _dir.Sub("calls.log");

    public string OpenMarkerFilePath => _dir.Sub("opened");

    public string DirPath => _dir.DirPath;

    /// <summary>Receiver config lines for this volume (LUKS_* and RECEIVED_ROOT).</summary>
    public string ReceiverConfig => $"LUKS_DEVICE={DevicePath}\nLUKS_NAME={Name}\nLUKS_MOUNT={MountDirPath}\nRECEIVED_ROOT={ReceivedRootDirPath}\nLUKS_TOOLS_DIR={ToolsDirPath}\n";

    public bool IsMounted => MountTable.IsMountPoint(MountDirPath);

    public string CallLog => File.Exists(CallLogFilePath) ? File.ReadAllText(CallLogFilePath) : "";

    public static async Task<FakeLuksVolume> CreateAsync()
    {
        Prerequisites.Require(needsRoot: true, "mkfs.btrfs", "btrfs", "mount", "umount");
        var volume = new FakeLuksVolume();
        try
        {
            await using (var image = File.Create(volume.ImageFilePath))
            {
                image.SetLength(BtrfsLoopFixture.DefaultSizeBytes);
            }

            await Run.OutAsync("mkfs.btrfs", "-q", "-f", volume.ImageFilePath);
            Directory.CreateDirectory(volume.MountDirPath);
            await Run.OutAsync("mount", "-o", "loop", volume.ImageFilePath, volume.MountDirPath);
            Directory.CreateDirectory(volume.ReceivedRootDirPath);
            await Run.OutAsync("umount", volume.MountDirPath);
            volume.InstallTools();
            return volume;
        }
        catch
        {
            await volume.DisposeAsync();
            throw;
        }
    }

    private void InstallTools()
    {
        Directory.CreateDirectory(ToolsDirPath);
        var mount = Which("mount");
        var umount = Which("umount");
        Write("cryptsetup", $$"""
            #!/bin/sh
            # fake cryptsetup: records argv, environment and stdin size; never the stdin bytes
            log={{CallLogFilePath}}
            echo "cryptsetup $*" >> "$log"
            env | sed 's/^/env /' >> "$log"
            case "$1" in
              luksOpen) n=$(wc -c | tr -d ' '); echo "stdin-bytes $n" >> "$log"; touch {{OpenMarkerFilePath}} ;;
              luksClose) rm -f {{OpenMarkerFilePath}} ;;
              *) echo "fake cryptsetup: unsupported $1" >&2; exit 1 ;;
            esac
            """);
        Write("mount", $$"""
            #!/bin/sh
            echo "mount $*" >> {{CallLogFilePath}}
            [ "$1" = "/dev/mapper/{{Name}}" ] || { echo "fake mount: unknown device $1" >&2; exit 32; }
            [ -e {{OpenMarkerFilePath}} ] || { echo "fake mount: special device $1 does not exist" >&2; exit 32; }
            exec {{mount}} -o loop {{ImageFilePath}} "$2"
            """);
        Write("umount", $$"""
            #!/bin/sh
            echo "umount $*" >> {{CallLogFilePath}}
            exec {{umount}} "$@"
            """);
    }

    private void Write(string name, string script)
    {
        var path = Path.Combine(ToolsDirPath, name);
        File.WriteAllText(path, script.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
    }

    private static string Which(string tool)
    {
        foreach (var dir in new[] { "/usr/bin", "/bin", "/usr/sbin", "/sbin" })
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"{tool} not found");
    }

    /// <summary>Lines of the call log that start with <paramref name="program"/> (argv lines, not env lines).</summary>
    public IReadOnlyList<string> Calls(string program)
        => CallLog.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith(program + " ", StringComparison.Ordinal)).ToList();

    public long? LastStdinBytes()
    {
        var line = CallLog.Split('\n').LastOrDefault(l => l.StartsWith("stdin-bytes ", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line["stdin-bytes ".Length..], CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (IsMounted)
        {
            var result = await Run.TryAsync("umount", MountDirPath);
            if (!result.IsSuccess)
            {
                await Run.TryAsync("umount", "-l", MountDirPath);
            }
        }

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
}

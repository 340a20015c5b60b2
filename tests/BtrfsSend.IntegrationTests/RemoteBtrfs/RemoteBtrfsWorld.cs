using BtrfsSend.IntegrationTests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.RemoteBtrfs;

/// <summary>
/// prod-srv and backup-srv on one machine for BACKUP_MODE=remote-btrfs: a loop btrfs with
/// @rootfs, the real receiver behind a private sshd (forced command through sudo) whose LUKS
/// volume is a <see cref="FakeLuksVolume"/> (fake cryptsetup and mount, real btrfs), a 0600 LUKS
/// key file, and a prod.conf in the shell scripts' remote-btrfs form.
/// </summary>
internal sealed class RemoteBtrfsWorld : ServerPair
{
    public const string KeyText = "luks-key-for-tests-8f1b2c3d4e5f60718293a4b5c6d7e8f9";

    private RemoteBtrfsWorld((BtrfsLoopFixture Prod, TempDir Dir, SshdFixture Sshd) servers, FakeLuksVolume volume)
        : base(servers)
    {
        Volume = volume;
    }

    public FakeLuksVolume Volume { get; }

    public string KeyFilePath => Dir.Sub("luks-key");

    public string SetDirPath => Path.Combine(Volume.ReceivedRootDirPath, "prod-srv", "rootfs");

    public string HookMarkerFilePath => Dir.Sub("hook-started");

    /// <summary>Where the receiver (under sudo, so with the default lease directory) records this volume's lease.</summary>
    public string LeaseFilePath => Path.Combine("/run/btrfs-backup-receive", $"luks-{Volume.Name}.lease");

    public static async Task<RemoteBtrfsWorld> CreateAsync(string extraConfig = "")
    {
        var volume = await FakeLuksVolume.CreateAsync();
        var world = new RemoteBtrfsWorld(await StartAsync("rbprod", BtrfsLoopFixture.DefaultSizeBytes, $"KEEP_DAILY=1\n{volume.ReceiverConfig}"), volume);
        await File.WriteAllTextAsync(world.KeyFilePath, KeyText);
        File.SetUnixFileMode(world.KeyFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await world.WriteConfigAsync(extraConfig);
        return world;
    }

    public Task WriteConfigAsync(string extra = "") => File.WriteAllTextAsync(ConfigFilePath,
        SourceAndTargetConfig()
        + $"""
        BACKUP_MODE=remote-btrfs
        LUKS_KEY_FILE={KeyFilePath}
        FULL_INTERVAL_DAYS=36500
        SERVICES_TO_QUIESCE=()

        """
        + SshOptionsConfig()
        + extra + "\n");

    /// <summary>A PRE_SNAPSHOT_HOOK that touches <see cref="HookMarkerFilePath"/> and then sleeps or fails.</summary>
    public string InstallHook(bool fail)
    {
        var path = Dir.Sub("hook.sh");
        File.WriteAllText(path, $"#!/bin/sh\ntouch {HookMarkerFilePath}\n{(fail ? "echo 'hook failed on purpose' >&2; exit 3" : "sleep 30")}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    public string? State() => File.Exists(StateFilePath) ? File.ReadAllText(StateFilePath).Trim() : null;

    /// <summary>Names under the set's received directory (mount the volume first to see them).</summary>
    public async Task<IReadOnlyList<string>> ReceivedNamesAsync()
    {
        await MountForInspectionAsync();
        try
        {
            return Directory.Exists(SetDirPath)
                ? Directory.GetDirectories(SetDirPath).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal).ToList()
                : [];
        }
        finally
        {
            await Run.OutAsync("umount", Volume.MountDirPath);
        }
    }

    public async Task<SubvolumeFacts> ShowReceivedAsync(string name)
    {
        await MountForInspectionAsync();
        try
        {
            return await BtrfsLoopFixture.ShowAsync(Path.Combine(SetDirPath, name));
        }
        finally
        {
            await Run.OutAsync("umount", Volume.MountDirPath);
        }
    }

    public async Task<string> ReadReceivedFileAsync(string name, string relativePath)
    {
        await MountForInspectionAsync();
        try
        {
            return await File.ReadAllTextAsync(Path.Combine(SetDirPath, name, relativePath));
        }
        finally
        {
            await Run.OutAsync("umount", Volume.MountDirPath);
        }
    }

    private Task MountForInspectionAsync() => Run.OutAsync("mount", "-o", "loop", Volume.ImageFilePath, Volume.MountDirPath);

    protected override async ValueTask DisposeOwnAsync()
    {
        await Volume.DisposeAsync();
        foreach (var leftover in new[] { LeaseFilePath, Path.ChangeExtension(LeaseFilePath, ".lock") })
        {
            File.Delete(leftover);
        }
    }
}

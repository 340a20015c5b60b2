using System.Globalization;
using System.Text;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.RemoteBtrfs;

/// <summary>
/// prod-srv and backup-srv on one machine for BACKUP_MODE=remote-btrfs: a loop btrfs with
/// @rootfs, the real receiver behind a private sshd (forced command through sudo) whose LUKS
/// volume is a <see cref="FakeLuksVolume"/> (fake cryptsetup and mount, real btrfs), a 0600 LUKS
/// key file, and a prod.conf in the shell scripts' remote-btrfs form.
/// </summary>
internal sealed class RemoteBtrfsWorld : IAsyncDisposable
{
    public const string KeyText = "luks-key-for-tests-8f1b2c3d4e5f60718293a4b5c6d7e8f9";

    private RemoteBtrfsWorld(BtrfsLoopFixture prod, TempDir dir, FakeLuksVolume volume, SshdFixture sshd)
    {
        Prod = prod;
        Dir = dir;
        Volume = volume;
        Sshd = sshd;
    }

    public BtrfsLoopFixture Prod { get; }

    public TempDir Dir { get; }

    public FakeLuksVolume Volume { get; }

    public SshdFixture Sshd { get; }

    public string SnapshotDirPath => Prod.PathOf("@backup-snapshots");

    public string ConfigFilePath => Dir.Sub("prod.conf");

    public string StateFilePath => Dir.Sub("state", "last-sent");

    public string KeyFilePath => Dir.Sub("luks-key");

    public string SetDirPath => Path.Combine(Volume.ReceivedRootDirPath, "prod-srv", "rootfs");

    public string HookMarkerFilePath => Dir.Sub("hook-started");

    /// <summary>Where the receiver (under sudo, so with the default lease directory) records this volume's lease.</summary>
    public string LeaseFilePath => Path.Combine("/run/btrfs-backup-receive", $"luks-{Volume.Name}.lease");

    public static async Task<RemoteBtrfsWorld> CreateAsync(string extraConfig = "")
    {
        var prod = await BtrfsLoopFixture.CreateAsync("rbprod");
        var dir = new TempDir("rbworld");
        var volume = await FakeLuksVolume.CreateAsync();
        var rootfs = await prod.CreateSubvolumeAsync("@rootfs");
        BtrfsLoopFixture.PopulateSample(rootfs);
        Directory.CreateDirectory(prod.PathOf("@backup-snapshots"));
        Directory.CreateDirectory(dir.Sub("store"));
        await File.WriteAllTextAsync(dir.Sub("receiver.conf"), $"BACKUP_ROOT={dir.Sub("store")}\nMIN_FREE_SPACE=0\nKEEP_DAILY=1\n{volume.ReceiverConfig}");
        var sshd = await SshdFixture.StartAsync(ProgramBinaries.Receiver, ["--config", dir.Sub("receiver.conf")]);
        var world = new RemoteBtrfsWorld(prod, dir, volume, sshd);
        await File.WriteAllTextAsync(world.KeyFilePath, KeyText);
        File.SetUnixFileMode(world.KeyFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await world.WriteConfigAsync(extraConfig);
        return world;
    }

    public Task WriteConfigAsync(string extra = "") => File.WriteAllTextAsync(ConfigFilePath, $"""
        SOURCE_TOP={Prod.MountDirPath}
        SOURCE_SUBVOL=@rootfs
        SNAPSHOT_DIR={SnapshotDirPath}
        SNAPSHOT_PREFIX=prod-srv-rootfs
        STATE_FILE={StateFilePath}
        BACKUP_SSH_TARGET={Sshd.Target}
        BACKUP_SSH_PORT={Sshd.Port.ToString(CultureInfo.InvariantCulture)}
        BACKUP_SSH_IDENTITY_FILE={Sshd.ClientKeyFilePath}
        BACKUP_SET=prod-srv/rootfs
        BACKUP_MODE=remote-btrfs
        LUKS_KEY_FILE={KeyFilePath}
        FULL_INTERVAL_DAYS=36500
        SERVICES_TO_QUIESCE=()
        SSH_OPTIONS=(HostKeyAlias={Sshd.HostKeyAlias} StrictHostKeyChecking=yes UserKnownHostsFile={Sshd.KnownHostsFilePath} GlobalKnownHostsFile=/dev/null)
        {extra}

        """);

    /// <summary>A PRE_SNAPSHOT_HOOK that touches <see cref="HookMarkerFilePath"/> and then sleeps or fails.</summary>
    public string InstallHook(bool fail)
    {
        var path = Dir.Sub("hook.sh");
        File.WriteAllText(path, $"#!/bin/sh\ntouch {HookMarkerFilePath}\n{(fail ? "echo 'hook failed on purpose' >&2; exit 3" : "sleep 30")}\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunProducerAsync()
    {
        await Task.Delay(1100); // snapshot names have one-second resolution
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var result = await Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments(["--config", ConfigFilePath])
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();
        return (result.ExitCode, stdout.ToString(), stderr.ToString());
    }

    public CommandTask<CommandResult> StartProducer(StringBuilder stderr) =>
        Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments(["--config", ConfigFilePath])
            .WithValidation(CommandResultValidation.None)
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync();

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

    public async ValueTask DisposeAsync()
    {
        await Sshd.DisposeAsync();
        await Volume.DisposeAsync();
        await Prod.DisposeAsync();
        foreach (var leftover in new[] { LeaseFilePath, Path.ChangeExtension(LeaseFilePath, ".lock") })
        {
            File.Delete(leftover);
        }

        Dir.Dispose();
    }
}

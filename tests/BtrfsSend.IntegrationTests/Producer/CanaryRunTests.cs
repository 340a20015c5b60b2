using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>CANARY_FILE in a real run: refused through a symlink before any service is stopped or snapshot taken.</summary>
public sealed class CanaryRunTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_symlink_at_CANARY_FILE_stops_the_run_before_services_stop_and_leaves_its_target_untouched()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a)\nCANARY_FILE=.btrfs-send-canary");
        world.InstallFakeSystemctl("a");
        var victim = world.Dir.Sub("victim");
        await File.WriteAllTextAsync(victim, "root-owned file elsewhere\n");
        File.CreateSymbolicLink(Path.Combine(world.RootfsPath, ".btrfs-send-canary"), victim);

        var run = await world.RunProducerAsync();

        Assert.Equal(5, run.ExitCode);
        Assert.Contains("is a symbolic link; refusing to replace it", run.Stderr, StringComparison.Ordinal);
        Assert.Equal("root-owned file elsewhere\n", await File.ReadAllTextAsync(victim));
        Assert.Empty(world.LocalSnapshotNames());
        Assert.Empty(world.StoredStreams());
        Assert.Empty(world.StopsAndStarts());
        Assert.Null(world.State());
    }
}

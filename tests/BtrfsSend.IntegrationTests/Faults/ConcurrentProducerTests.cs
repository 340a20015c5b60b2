using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// Two producers at once. For the same set one of them must fail clearly as busy and lose
/// nothing; for different sets both must succeed side by side.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class ConcurrentProducerTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_second_run_of_the_same_config_during_a_transfer_exits_4_busy_and_the_first_completes()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        world.ChangeSource();
        var stderr = new StringBuilder();
        var first = await world.StartRunHeldMidTransferAsync(stderr);
        (int ExitCode, string Stdout, string Stderr) second;
        StoreState during;
        try
        {
            second = await world.RunAsync();
            during = world.Capture();
        }
        finally
        {
            world.World.ReleasePause();
        }

        var firstResult = await first;

        Assert.Equal(4, second.ExitCode);
        Assert.Contains($"busy: another process holds {world.World.StateFilePath}.lock", second.Stderr, StringComparison.Ordinal);
        Assert.Equal(before.StateFiles, during.StateFiles);
        Assert.True(firstResult.ExitCode == 0, "the first run failed: " + stderr);
        var after = world.Capture();
        Assert.Equal(before.Manifests.Count + 1, after.Manifests.Count);
        Assert.Equal(world.World.LocalSnapshotNames()[^1] + "\n", after.StateFiles[FaultWorld.Set]);
        await world.AssertNoDataLostAsync(before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_second_producer_with_its_own_config_for_the_same_set_is_refused_busy_by_the_receiver_and_loses_nothing()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        world.ChangeSource();
        var stderr = new StringBuilder();
        var first = await world.StartRunHeldMidTransferAsync(stderr);
        (int ExitCode, string Stdout, string Stderr) twin;
        try
        {
            twin = await world.RunAsync(world.TwinConfigFilePath);
        }
        finally
        {
            world.World.ReleasePause();
        }

        var firstResult = await first;

        Assert.Equal(5, twin.ExitCode);
        Assert.Contains(": busy: another upload to set 'prod-srv/rootfs' is running", twin.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(world.TwinStateFilePath), "the refused twin recorded a state");
        Assert.True(firstResult.ExitCode == 0, "the first run failed: " + stderr);
        var after = world.Capture();
        Assert.Equal(before.Manifests.Count + 1, after.Manifests.Count);
        Assert.DoesNotContain(after.LocalSnapshots, s => s.StartsWith("twin/", StringComparison.Ordinal));
        Assert.Empty(world.TempFiles());
        await world.AssertNoDataLostAsync(before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task Producers_for_two_different_sets_run_side_by_side_and_both_succeed()
    {
        var world = await fixture.WorldAsync();
        await world.EnsureHomeSetAsync();
        var before = world.Capture();
        world.ChangeSource();
        BtrfsLoopFixture.WriteFile(Path.Combine(world.World.Prod.PathOf("@home"), "user", Guid.NewGuid().ToString("N")), new byte[200_000]);
        var stderr = new StringBuilder();
        var rootfs = await world.StartRunHeldMidTransferAsync(stderr);
        (int ExitCode, string Stdout, string Stderr) home;
        try
        {
            home = await world.RunAsync(world.HomeConfigFilePath);
        }
        finally
        {
            world.World.ReleasePause();
        }

        var rootfsResult = await rootfs;

        Assert.True(home.ExitCode == 0, "the prod-srv/home run, while prod-srv/rootfs was mid-transfer, failed: " + home.Stderr);
        Assert.True(rootfsResult.ExitCode == 0, "the prod-srv/rootfs run failed: " + stderr);
        var after = world.Capture();
        Assert.Equal(before.Manifests.Count(m => m.StartsWith(FaultWorld.Set + "/", StringComparison.Ordinal)) + 1,
            after.Manifests.Count(m => m.StartsWith(FaultWorld.Set + "/", StringComparison.Ordinal)));
        Assert.Equal(before.Manifests.Count(m => m.StartsWith(FaultWorld.HomeSet + "/", StringComparison.Ordinal)) + 1,
            after.Manifests.Count(m => m.StartsWith(FaultWorld.HomeSet + "/", StringComparison.Ordinal)));
        Assert.NotEqual(before.StateFiles[FaultWorld.Set], after.StateFiles[FaultWorld.Set]);
        Assert.NotEqual(before.StateFiles[FaultWorld.HomeSet], after.StateFiles[FaultWorld.HomeSet]);
        await world.AssertNoDataLostAsync(before);
    }
}

using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The network dies while the real producer is halfway through sending an incremental over the
/// real sshd, three ways. Each time: the producer exits 6 (transfer failed) and records nothing,
/// the receiver commits nothing and removes its temp file, and the next run succeeds.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class NetworkCutTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task Killing_the_ssh_client_mid_transfer_exits_6_commits_nothing_and_the_next_run_succeeds()
    {
        var world = await fixture.WorldAsync();
        await CutMidTransferAsync(world, async () =>
        {
            var ssh = Assert.Single(world.ProducerSshPids());
            using var process = System.Diagnostics.Process.GetProcessById(ssh);
            process.Kill(); // SIGKILL, this one ssh client only
            await Task.CompletedTask;
        });
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "ss")]
    public async Task Resetting_the_TCP_connection_with_ss_K_mid_transfer_exits_6_commits_nothing_and_the_next_run_succeeds()
    {
        var world = await fixture.WorldAsync();
        await CutMidTransferAsync(world, async () =>
        {
            var killed = await world.Network.ResetConnectionsToAsync(world.Port);
            // An empty list means ss -K destroyed nothing (a kernel without CONFIG_INET_DIAG_DESTROY):
            // fail here rather than let the case pass without a reset.
            Assert.True(killed.Count == 1, $"ss -K should have reset the one connection to port {world.Port}, it listed: [{string.Join(" | ", killed)}]");
        });
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "nft")]
    public async Task An_nft_byte_quota_that_blackholes_the_upload_mid_transfer_exits_6_commits_nothing_and_the_next_run_succeeds()
    {
        var world = await fixture.WorldAsync();
        try
        {
            // Silently dropped packets, no reset: only the server's keepalives (ClientAliveInterval 5,
            // ClientAliveCountMax 3) can end this session, after about 20 s.
            await CutMidTransferAsync(world, () => world.Network.LimitUploadAsync(world.Port, 256 * 1024),
                afterCut: async () => Assert.Contains("quota over", await world.Network.RulesetAsync(), StringComparison.Ordinal));
        }
        finally
        {
            await world.Network.RemoveLimitAsync();
        }
    }

    private static async Task CutMidTransferAsync(FaultWorld world, Func<Task> cut, Func<Task>? afterCut = null)
    {
        var before = world.Capture();
        world.ChangeSource();
        var stderr = new StringBuilder();
        var running = await world.StartRunHeldMidTransferAsync(stderr);
        try
        {
            await cut();
        }
        finally
        {
            world.World.ReleasePause();
        }

        var result = await running;
        await world.WaitForReceiversToExitAsync();
        if (afterCut is not null)
        {
            await afterCut();
        }

        await world.Network.RemoveLimitAsync();

        Assert.True(result.ExitCode == 6, $"exit {result.ExitCode}: {stderr}");
        // With 1 MiB pipes a small stream can sit whole in the buffers when the cut comes: then the
        // producer cannot know whether the receiver committed and says "not recorded as done"
        // (AssertNothingChanged below proves the receiver did not commit).
        Assert.True(
            stderr.ToString().Contains("nothing was committed", StringComparison.Ordinal)
            || stderr.ToString().Contains("not recorded as done", StringComparison.Ordinal),
            "the producer's message says neither 'nothing was committed' nor 'not recorded as done': " + stderr);
        world.AssertNothingChanged(before);

        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the run after the cut failed: " + next.Stderr);
        Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        await world.AssertNoDataLostAsync(before);
    }
}

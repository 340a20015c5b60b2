using System.Globalization;
using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>The producer is told to stop (SIGTERM, as systemd or a shutdown does) while its stream is in flight.</summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class ProducerSignalFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task SIGTERM_during_the_send_exits_143_records_nothing_commits_nothing_and_the_next_run_succeeds()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        world.ChangeSource();
        var stderr = new StringBuilder();
        var running = await world.StartRunHeldMidTransferAsync(stderr);
        try
        {
            await Run.OutAsync("kill", "-TERM", running.ProcessId.ToString(CultureInfo.InvariantCulture));
            var result = await running;
            await world.WaitForReceiversToExitAsync();

            Assert.True(result.ExitCode == 143, $"exit {result.ExitCode}: {stderr}");
            Assert.Contains("terminated by SIGTERM; nothing half-done was recorded as done", stderr.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            world.World.ReleasePause();
        }

        world.AssertNothingChanged(before);
        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the run after SIGTERM failed: " + next.Stderr);
        Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        await world.AssertNoDataLostAsync(before);
    }
}

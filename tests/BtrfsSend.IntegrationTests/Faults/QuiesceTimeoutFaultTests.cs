using System.Text;
using BtrfsSend.IntegrationTests.Producer;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The snapshot hangs while services are stopped (a btrfs wrapper holds <c>btrfs subvolume
/// snapshot</c> until released): at QUIESCE_TIMEOUT_SECONDS the quiesce guard restarts the
/// stopped services although the producer is still waiting, says why, and the run then ends
/// with its backup stored and every service running. Its own world: it needs services.
/// </summary>
[Trait("Category", FaultCollection.Category)]
public sealed class QuiesceTimeoutFaultTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_snapshot_stalled_past_QUIESCE_TIMEOUT_SECONDS_has_the_guard_restart_the_services_while_the_producer_still_waits()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b)\nQUIESCE_TIMEOUT_SECONDS=10");
        world.InstallFakeSystemctl("a", "b", "c");
        var stall = world.Dir.Sub("stall");
        Directory.CreateDirectory(stall);
        var real = Prerequisites.FindOnPath("btrfs")!;
        var wrapper = Path.Combine(world.FakeBinDirPath, "btrfs");
        await File.WriteAllTextAsync(wrapper, $$"""
            #!/bin/sh
            if [ "$1 $2" = "subvolume snapshot" ] && [ -e {{stall}}/armed ]; then
              touch {{stall}}/stalled
              i=0
              while [ ! -e {{stall}}/release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
            fi
            exec {{real}} "$@"

            """);
        File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        File.WriteAllText(world.Systemctl.LogFilePath, "");
        var streams = world.StoredStreams().Count;
        await File.WriteAllTextAsync(Path.Combine(stall, "armed"), "");
        await Task.Delay(1100);

        var stderr = new StringBuilder();
        var running = world.StartProducer(stderr);
        try
        {
            for (var i = 0; i < 600 && !File.Exists(Path.Combine(stall, "stalled")) && !running.Task.IsCompleted; i++)
            {
                await Task.Delay(50);
            }

            Assert.True(File.Exists(Path.Combine(stall, "stalled")), "the producer never reached the snapshot: " + stderr);
            Assert.Equal(["c"], world.RunningServices());
            var stalledAt = DateTime.UtcNow;

            // The window opened a moment before the snapshot: the guard's deadline is at most 10 s away.
            for (var i = 0; i < 400 && world.RunningServices().Count < 3; i++)
            {
                await Task.Delay(50);
            }

            Assert.Equal(["a", "b", "c"], world.RunningServices());
            Assert.True(DateTime.UtcNow - stalledAt < TimeSpan.FromSeconds(15), "the services came back too late");
            Assert.False(running.Task.IsCompleted, "the producer ended while its snapshot was still held: " + stderr);
            Assert.Equal(["stop a", "stop b", "start b", "start a"], world.StopsAndStarts());
        }
        finally
        {
            await File.WriteAllTextAsync(Path.Combine(stall, "release"), "");
        }

        var result = await running;
        Assert.Contains("past QUIESCE_TIMEOUT_SECONDS (10 s): the quiesce guard had restarted them already, so this snapshot may not be quiescent", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(["a", "b", "c"], world.RunningServices());
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {stderr}");
        Assert.Equal(streams + 1, world.StoredStreams().Count);
    }
}

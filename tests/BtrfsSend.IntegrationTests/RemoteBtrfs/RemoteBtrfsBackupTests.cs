using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.RemoteBtrfs;

/// <summary>
/// BACKUP_MODE=remote-btrfs end to end: the real producer, the real receiver behind sshd and
/// sudo, real btrfs send/receive; only cryptsetup and the mapper mount are fakes (no device-mapper).
/// </summary>
public sealed class RemoteBtrfsBackupTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_full_then_incrementals_are_received_pruned_by_the_server_policy_and_the_volume_is_closed_after_every_run()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync();

        var runs = new List<(int ExitCode, string Stdout, string Stderr)>();
        for (var i = 0; i < 3; i++)
        {
            File.WriteAllText(Path.Combine(world.Prod.PathOf("@rootfs"), "run.txt"), $"run {i}");
            runs.Add(await world.RunProducerAsync());
            Assert.True(runs[i].ExitCode == 0, runs[i].Stderr);
            Assert.False(world.Volume.IsMounted, "the volume is still mounted after run " + i);
        }

        Assert.Contains("full: no previous snapshot", runs[0].Stderr, StringComparison.Ordinal);
        Assert.Contains("incremental against", runs[1].Stderr, StringComparison.Ordinal);
        Assert.Contains("incremental against", runs[2].Stderr, StringComparison.Ordinal);
        // The ETA's estimate: list-received lists no sizes, so it is the send-stream bytes recorded
        // beside STATE_FILE for the previous stream of the same kind (none before the first of each).
        Assert.Contains("no ETA estimate: no previous full stream", runs[0].Stderr, StringComparison.Ordinal);
        Assert.Contains("no ETA estimate: no previous incremental stream", runs[1].Stderr, StringComparison.Ordinal);
        var firstIncremental = System.Text.RegularExpressions.Regex.Match(runs[1].Stderr, @"on the backup server, (\d+) bytes in").Groups[1].Value;
        Assert.NotEqual("", firstIncremental);
        Assert.Contains($"ETA estimated from the previous incremental stream: {firstIncremental} send-stream bytes (from {world.StateFilePath}.sizes)", runs[2].Stderr, StringComparison.Ordinal);
        // KEEP_DAILY=1 on the server and three runs today: prune-received kept only the newest,
        // which is also the state file's snapshot, the next incremental's parent.
        var received = await world.ReceivedNamesAsync();
        Assert.Equal([world.State()!], received);
        Assert.True((await world.ShowReceivedAsync(received[0])).IsCompleteReceive);
        Assert.Equal("run 2", await world.ReadReceivedFileAsync(received[0], "run.txt"));

        var opens = world.Volume.Calls("cryptsetup").Where(c => c.Contains("luksOpen", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, opens.Count);
        Assert.All(opens, o => Assert.Equal($"cryptsetup luksOpen --key-file=- {world.Volume.DevicePath} {world.Volume.Name}", o));
        Assert.Equal(3, world.Volume.Calls("cryptsetup").Count(c => c.Contains("luksClose", StringComparison.Ordinal)));
        Assert.Equal(RemoteBtrfsWorld.KeyText.Length, world.Volume.LastStdinBytes());
        Assert.DoesNotContain(RemoteBtrfsWorld.KeyText, world.Volume.CallLog, StringComparison.Ordinal); // argv and environment
        Assert.DoesNotContain(RemoteBtrfsWorld.KeyText, string.Concat(runs.Select(r => r.Stderr + r.Stdout)), StringComparison.Ordinal);
        Assert.DoesNotContain(RemoteBtrfsWorld.KeyText, File.ReadAllText(world.Sshd.LogFilePath), StringComparison.Ordinal);
        Assert.False(File.Exists(world.LeaseFilePath));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_producer_failure_after_open_still_closes_the_volume_and_records_nothing()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync();
        await world.WriteConfigAsync($"PRE_SNAPSHOT_HOOK={world.InstallHook(fail: true)}");

        var result = await world.RunProducerAsync();

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(File.Exists(world.HookMarkerFilePath), result.Stderr);
        Assert.False(world.Volume.IsMounted);
        Assert.Contains("luksClose", world.Volume.Calls("cryptsetup").Last(), StringComparison.Ordinal);
        Assert.Null(world.State());
        Assert.Empty(await world.ReceivedNamesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task SIGTERM_during_the_run_exits_143_and_closes_the_volume()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync();
        await world.WriteConfigAsync($"PRE_SNAPSHOT_HOOK={world.InstallHook(fail: false)}");
        var stderr = new StringBuilder();

        var running = world.StartProducer(stderr);
        for (var i = 0; i < 600 && !File.Exists(world.HookMarkerFilePath) && !running.Task.IsCompleted; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(world.HookMarkerFilePath), "the producer never reached the hook: " + stderr);
        Assert.True(world.Volume.IsMounted, "the volume should be open while the producer runs");
        await Run.OutAsync("kill", "-TERM", running.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = await running;

        Assert.True(result.ExitCode == 143, stderr.ToString());
        Assert.False(world.Volume.IsMounted);
        Assert.Contains("luksClose", world.Volume.Calls("cryptsetup").Last(), StringComparison.Ordinal);
        Assert.False(File.Exists(world.LeaseFilePath));
        Assert.Null(world.State());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Close_stale_from_cron_closes_a_volume_a_dead_producer_left_open()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync();
        var open = await Run.OutWithInputAsync(Encoding.ASCII.GetBytes(RemoteBtrfsWorld.KeyText), world.Sshd.SshArgv("open-luks"));
        Assert.True(world.Volume.IsMounted, open);
        var config = world.Dir.Sub("receiver.conf");

        var young = await Run.OutAsync(ProgramBinaries.Receiver, "close-stale", "--config", config);
        File.WriteAllText(world.LeaseFilePath, "2000-01-01T00:00:00Z\n"); // the producer died long ago
        var stale = await Run.OutAsync(ProgramBinaries.Receiver, "close-stale", "--config", config);

        Assert.Contains("nothing to close", young, StringComparison.Ordinal);
        Assert.Contains("closed the LUKS volume", stale, StringComparison.Ordinal);
        Assert.False(world.Volume.IsMounted);
        Assert.False(File.Exists(world.LeaseFilePath));
    }
}

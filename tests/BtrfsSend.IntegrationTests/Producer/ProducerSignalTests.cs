using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Producer;

public sealed class ProducerSignalTests
{
    [Trait("Category", "Fault")]
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task SIGTERM_while_services_are_stopped_exits_143_restarts_every_one_in_reverse_and_records_nothing()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b c)");
        world.InstallFakeSystemctl("a", "b", "c");
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (state, snapshots, store) = (world.State(), world.LocalSnapshotNames(), world.StoreFiles());
        File.WriteAllText(Path.Combine(world.SystemctlDirPath, "slow-stop", "c"), "");
        await Task.Delay(1100); // a new snapshot name (one-second resolution), as RunProducerAsync does

        var stderr = new StringBuilder();
        var running = world.StartProducer(stderr);
        // Wait (bounded) until the producer is inside the stop window: a and b stopped, c stopping.
        for (var i = 0; i < 600 && !File.Exists(world.StoppingMarkerFilePath) && !running.Task.IsCompleted; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(world.StoppingMarkerFilePath), "the producer never reached the stop window: " + stderr);
        await Run.OutAsync("kill", "-TERM", running.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = await running;

        Assert.True(result.ExitCode == 143, stderr.ToString());
        Assert.Equal(
            ["stop a", "stop b", "stop c", "start c", "start b", "start a", "stop a", "stop b", "stop c", "start c", "start b", "start a"],
            world.StopsAndStarts());
        Assert.Equal(["a", "b", "c"], world.RunningServices());
        Assert.Equal(state, world.State());
        Assert.Equal(snapshots, world.LocalSnapshotNames());
        Assert.Equal(store, world.StoreFiles());
        Assert.Contains("terminated by SIGTERM", stderr.ToString(), StringComparison.Ordinal);
    }

    [Trait("Category", "Fault")]
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task SIGKILL_while_services_are_stopped_has_the_guard_restart_exactly_the_stopped_ones_and_the_next_run_succeeds()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b c)");
        world.InstallFakeSystemctl("a", "b", "c");
        var first = await world.RunProducerAsync();
        Assert.True(first.ExitCode == 0, first.Stderr);
        var (state, snapshots, store) = (world.State(), world.LocalSnapshotNames(), world.StoreFiles());
        File.WriteAllText(Path.Combine(world.SystemctlDirPath, "slow-stop", "b"), "");
        File.WriteAllText(world.Systemctl.LogFilePath, "");
        await Task.Delay(1100);

        var stderr = new StringBuilder();
        var running = world.StartProducer(stderr);
        for (var i = 0; i < 600 && !File.Exists(world.StoppingMarkerFilePath) && !running.Task.IsCompleted; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(world.StoppingMarkerFilePath), "the producer never reached the stop window: " + stderr);
        await Run.OutAsync("kill", "-KILL", running.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = await running;
        Assert.Equal(137, result.ExitCode);

        // The guard restarts b once its stop (3 s, in progress at the kill) has finished, then a; c was never stopped.
        for (var i = 0; i < 200 && world.RunningServices().Count < 3; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(["a", "b", "c"], world.RunningServices());
        Assert.Equal(["stop a", "stop b", "start b", "start a"], world.StopsAndStarts());
        Assert.Equal(state, world.State());
        Assert.Equal(snapshots, world.LocalSnapshotNames());
        Assert.Equal(store, world.StoreFiles());

        File.Delete(Path.Combine(world.SystemctlDirPath, "slow-stop", "b"));
        var next = await world.RunProducerAsync();
        Assert.True(next.ExitCode == 0, next.Stderr);
        Assert.NotEqual(state, world.State());
        Assert.Equal(["a", "b", "c"], world.RunningServices());
    }
}

using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// prod-srv's btrfs (which holds the source and SNAPSHOT_DIR) is full: data filled by one big
/// file of zeros, metadata by small files until ENOSPC. With a CANARY_FILE the run cannot write
/// its canary: it stops with one line saying so and leaves nothing. Without one it snapshots (btrfs keeps a
/// reserve for that) and backs up as usual, since a send only reads.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class SourceFullFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "dd")]
    public async Task A_full_source_filesystem_fails_the_canary_run_cleanly_and_a_run_without_canary_still_backs_up()
    {
        var world = await fixture.WorldAsync();
        var canaryConfig = world.World.Dir.Sub("canary.conf");
        await world.World.WriteConfigAsync("CANARY_FILE=var/backup-canary", canaryConfig);
        world.ChangeSource();
        var before = world.Capture();
        var filler = world.World.Prod.PathOf("filler");
        Directory.CreateDirectory(filler);
        try
        {
            await Run.TryAsync("dd", "if=/dev/zero", "of=" + Path.Combine(filler, "big"), "bs=1M");
            await Run.OutAsync("sync");
            for (var i = 0; i < 200_000; i++)
            {
                try
                {
                    await File.WriteAllBytesAsync(Path.Combine(filler, $"s{i}"), new byte[2000]);
                }
                catch (IOException)
                {
                    break;
                }
            }

            var run = await world.RunAsync(canaryConfig);

            Assert.True(run.ExitCode is not 0, "a run that could not write its canary exited 0: " + run.Stderr);
            Assert.Contains("No space left on device", run.Stderr, StringComparison.Ordinal);
            world.AssertNothingChanged(before);

            var plain = await world.RunAsync();
            Assert.True(plain.ExitCode == 0, "a run without canary on a full source filesystem failed: " + plain.Stderr);
            Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        }
        finally
        {
            Directory.Delete(filler, recursive: true);
            await Run.OutAsync("btrfs", "filesystem", "sync", world.World.Prod.MountDirPath);
        }

        await world.AssertNoDataLostAsync(before);
    }
}

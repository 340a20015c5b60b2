using System.Globalization;
using System.Text;
using BtrfsSend.TestSupport;
using CliWrap.Buffered;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The receiver dies by SIGKILL in the middle of its commit: the stream file has been renamed to
/// its final name, the manifest is not written yet. strace holds the receiver right after that
/// rename (no test hook in the product), the test kills it there.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class ReceiverCommitFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter", "strace")]
    public async Task SIGKILL_of_the_receiver_after_the_stream_rename_before_the_manifest_records_nothing_check_warns_and_the_next_run_and_restore_succeed()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        world.ChangeSource();
        var stderr = new StringBuilder();
        var running = await world.StartRunHeldMidTransferAsync(stderr);
        string orphan;
        try
        {
            var receiver = Assert.Single(world.ReceiverPids());
            await using var held = await ReceiverTrace.HoldAfterFirstRenameAsync(receiver);
            world.World.ReleasePause();
            orphan = await WaitForStreamWithoutManifestAsync(world, before);
            await Run.OutAsync("kill", "-KILL", receiver.ToString(CultureInfo.InvariantCulture));
        }
        finally
        {
            world.World.ReleasePause();
        }

        var result = await running;
        await world.WaitForReceiversToExitAsync();
        Assert.True(result.ExitCode == 6, $"exit {result.ExitCode}: {stderr}");
        // One error line; its wording depends on who notices first: "'receive-stream' on the receiver
        // failed with exit code 137: Killed", "the connection to the receiver broke while sending
        // (...); ... ssh: Killed; nothing was committed", or "the send pipeline failed: ...; nothing
        // was committed" (the stream file is there, but without its manifest it is no backup).
        var errors = stderr.ToString().Split('\n').Where(l => l.Contains("[ERR]", StringComparison.Ordinal)).ToList();
        Assert.True(
            errors.Count == 1 && (errors[0].Contains("Killed", StringComparison.Ordinal) || errors[0].EndsWith("nothing was committed", StringComparison.Ordinal)),
            "the producer does not say in one line that the transfer failed: " + stderr);

        // The producer recorded nothing and deleted its new snapshot; the store gained exactly the
        // one stream without a manifest and no temp file.
        var now = world.Capture();
        Assert.Equal(before.StateFiles, now.StateFiles);
        Assert.Equal(before.LocalSnapshots, now.LocalSnapshots);
        Assert.Equal(before.Manifests, now.Manifests);
        Assert.Equal([Path.GetRelativePath(world.World.StoreDirPath, orphan)], now.StoreFiles.Keys.Except(before.StoreFiles.Keys).ToList());
        Assert.True(world.TempFiles().Count == 0, $"temp files left: {string.Join(", ", world.TempFiles())}; before: {string.Join(", ", before.StoreFiles.Keys)}; now: {string.Join(", ", now.StoreFiles.Keys)}");

        var check = await world.ReceiverCheckAsync();
        Assert.True(check.ExitCode != 0, "check should warn about the stream without a manifest: " + check.StandardOutput);
        Assert.Contains("stream file without a manifest (an interrupted commit?): " + orphan, check.StandardOutput + check.StandardError, StringComparison.Ordinal);

        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the run after the kill failed: " + next.Stderr);
        Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        await world.AssertNoDataLostAsync(before);
    }

    private static async Task<string> WaitForStreamWithoutManifestAsync(FaultWorld world, StoreState before)
    {
        for (var i = 0; i < 1200; i++)
        {
            var streams = Directory.GetFiles(world.SetDirPath(FaultWorld.Set), "*.btrfs.gpg")
                .Where(s => !Path.GetFileName(s).StartsWith(".tmp-", StringComparison.Ordinal))
                .Where(s => !before.StoreFiles.ContainsKey(Path.GetRelativePath(world.World.StoreDirPath, s)))
                .ToList();
            if (streams.Count == 1)
            {
                var manifest = streams[0][..streams[0].IndexOf('.', Path.GetDirectoryName(streams[0])!.Length)] + ".manifest";
                Assert.False(File.Exists(manifest), $"{manifest} exists: the receiver was not held between the two renames");
                return streams[0];
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the receiver never renamed its stream into place");
    }
}

using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;
using CliWrap.Buffered;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// A manifest on the backup server is damaged (cut in half, or overwritten with garbage of the
/// same length): <c>check</c> reports it, <c>prune</c> deletes nothing because of it, and a
/// restore whose chain needs that link refuses with a line naming it. The manifest damaged is
/// the set's newest full, which every later incremental depends on.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class ManifestFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_truncated_or_garbage_manifest_is_reported_by_check_blocks_prune_and_makes_restore_refuse_that_link()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        // The newest full: the root of the latest backup's chain (an earlier case may have started a
        // new chain, and a temp file an earlier case left may also end in ".manifest").
        var first = before.Manifests
            .Where(m => m.StartsWith(FaultWorld.Set + "/", StringComparison.Ordinal) && !IsTemp(m))
            .Last(m => ManifestReader.Parse(File.ReadAllBytes(Path.Combine(world.World.StoreDirPath, m)), m).Manifest?.Kind == StreamKind.Full);
        var path = Path.Combine(world.World.StoreDirPath, first);
        var snapshot = Path.GetFileName(first)[..^".manifest".Length];
        var original = await File.ReadAllBytesAsync(path);
        byte[][] damaged = [original[..(original.Length / 2)], [.. Enumerable.Range(0, original.Length).Select(i => (byte)(i * 37 % 251))]];
        try
        {
            for (var d = 0; d < damaged.Length; d++)
            {
                await File.WriteAllBytesAsync(path, damaged[d]);

                var check = await world.ReceiverCheckAsync();
                Assert.True(check.ExitCode >= 2, $"check exited {check.ExitCode} for a damaged manifest: {check.StandardOutput} {check.StandardError}");
                Assert.Contains(path, check.StandardOutput + check.StandardError, StringComparison.Ordinal);

                var prune = await world.ReceiverAsync("prune", "--set", FaultWorld.Set);
                Assert.True(prune.ExitCode != 0, $"prune exited 0 with a damaged manifest: {prune.StandardError}");
                Assert.Contains("deleted nothing", prune.StandardError + prune.StandardOutput, StringComparison.Ordinal);
                var now = world.Capture();
                Assert.Equal(Committed(before), Committed(now));
                Assert.All(before.StoreFiles.Where(f => f.Key != first && !IsTemp(f.Key)), f => Assert.Equal(f.Value, now.StoreFiles[f.Key]));

                var into = world.Target.PathOf($"restore-damaged-manifest-{d}");
                Directory.CreateDirectory(into);
                var restore = await world.World.Producer(["restore", "--config", world.World.ConfigFilePath, "--set", FaultWorld.Set, "--latest", "--to", into]).ExecuteBufferedAsync();
                Assert.True(restore.ExitCode != 0, "restore --latest through a damaged manifest exited 0: " + restore.StandardError);
                var naming = restore.StandardError.Split('\n').Where(l => l.Contains(snapshot, StringComparison.Ordinal)).ToList();
                Assert.True(naming.Count >= 1, $"restore's error does not name the damaged link {snapshot}: {restore.StandardError}");
                Assert.Empty(Directory.GetFileSystemEntries(into));
            }
        }
        finally
        {
            await File.WriteAllBytesAsync(path, original);
            File.SetUnixFileMode(path, UnixFileMode.UserRead);
        }

        await world.AssertNoDataLostAsync(before);
    }

    private static bool IsTemp(string relativePath) => Path.GetFileName(relativePath).StartsWith(".tmp-", StringComparison.Ordinal);

    /// <summary>The committed files (temp files of interrupted uploads are a verb's to remove).</summary>
    private static List<string> Committed(StoreState state) => state.StoreFiles.Keys.Where(f => !IsTemp(f)).Order(StringComparer.Ordinal).ToList();
}

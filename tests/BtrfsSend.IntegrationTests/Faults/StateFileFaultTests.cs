using System.Text;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// prod-srv's STATE_FILE (the name of the last snapshot the receiver acknowledged) is damaged:
/// garbage or cut off in the middle of the name stops the run with one line naming the file and
/// how to recover, before anything is snapshotted or sent; cut to nothing is "no previous
/// snapshot", so the next run can only be a full or use a parent the receiver really holds.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class StateFileFaultTests(FaultWorldFixture fixture)
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_state_file_holding_garbage_or_a_truncated_name_exits_3_naming_it_and_changes_nothing_and_an_empty_one_never_gives_a_wrong_parent()
    {
        var world = await fixture.WorldAsync();
        var statePath = world.World.StateFilePath;
        var original = await File.ReadAllBytesAsync(statePath);
        var before = world.Capture();
        var name = Encoding.ASCII.GetString(original).Trim();
        byte[][] damaged = [[0x00, 0xff, 0x1b, (byte)'[', (byte)'3', (byte)'1', (byte)'m', 0x0a], Encoding.ASCII.GetBytes(name[..(name.Length / 2)])];
        try
        {
            foreach (var content in damaged)
            {
                await File.WriteAllBytesAsync(statePath, content);
                var damagedState = world.Capture();
                world.ChangeSource();

                var run = await world.RunAsync();

                Assert.True(run.ExitCode == 3, $"exit {run.ExitCode}: {run.Stderr}");
                var errors = run.Stderr.Split('\n').Where(l => l.Contains(statePath, StringComparison.Ordinal)).ToList();
                Assert.True(errors.Count == 1, "expected one line naming the state file: " + run.Stderr);
                Assert.Contains("delete it", errors[0], StringComparison.Ordinal);
                Assert.DoesNotContain(errors[0], c => char.IsControl(c) && c != '\r');
                world.AssertNothingChanged(damagedState);
                Assert.Equal(content, await File.ReadAllBytesAsync(statePath));
            }
        }
        finally
        {
            await File.WriteAllBytesAsync(statePath, original);
        }

        // Cut to nothing (a crash while the file was being written, on a filesystem without data=ordered).
        await File.WriteAllBytesAsync(statePath, []);
        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the run with an empty state file failed: " + next.Stderr);
        var added = Assert.Single(world.Capture().Manifests.Except(before.Manifests));
        var manifest = ManifestReader.Parse(await File.ReadAllBytesAsync(Path.Combine(world.World.StoreDirPath, added)), added).Manifest!;
        if (manifest.Kind == StreamKind.Incremental)
        {
            Assert.Contains(manifest.Parent!.Value + ".manifest", before.Manifests.Select(Path.GetFileName));
        }

        Assert.Equal(manifest.Snapshot.Value + "\n", world.World.State());
        await world.AssertNoDataLostAsync(before);
    }
}

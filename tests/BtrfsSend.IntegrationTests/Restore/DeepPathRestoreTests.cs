using System.Globalization;
using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// A snapshot holding a path of about 4,000 bytes (16 nested directories of 253 bytes each)
/// backs up, verifies and restores, and so does the next incremental of its chain. btrfs receive
/// joins its target directory and every stream path in PATH_MAX (4096) buffers; without
/// <c>--chroot</c> the target's own path pushed such a path over the limit
/// (<c>rename: target path invalid</c>).
/// </summary>
[Collection(RestoreCollection.Name)]
public sealed class DeepPathRestoreTests(RestoreWorldFixture fixture)
{
    private const string Set = "prod-srv/deep";
    private const string Prefix = "deep";

    /// <summary>mkdir and cd one component at a time: no single syscall sees the whole path.</summary>
    private static readonly string DeepDirScript = string.Concat(Enumerable.Range(0, 16).Select(i => $"mkdir -p {new string((char)('a' + i), 253)} && cd {new string((char)('a' + i), 253)} && "));

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_snapshot_with_a_4000_byte_path_and_its_next_incremental_back_up_verify_restore_and_pass_the_drill()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdeep");
        var source = await world.Prod.CreateSubvolumeAsync("@deep");
        await Run.OutAsync("bash", "-e", "-c", $"cd {source} && {DeepDirScript} echo first > f");
        var config = dir.Sub("deep.conf");
        var text = (await File.ReadAllTextAsync(world.ConfigFilePath))
            .Replace("SOURCE_SUBVOL=@rootfs", "SOURCE_SUBVOL=@deep", StringComparison.Ordinal)
            .Replace("SNAPSHOT_PREFIX=prod-srv-rootfs", $"SNAPSHOT_PREFIX={Prefix}", StringComparison.Ordinal)
            .Replace($"BACKUP_SET={RestoreWorld.Set}", $"BACKUP_SET={Set}", StringComparison.Ordinal);
        text = Regex.Replace(text, "^STATE_FILE=.*$", $"STATE_FILE={dir.Sub("state", "deep")}", RegexOptions.Multiline);
        Assert.Contains($"SNAPSHOT_PREFIX={Prefix}\n", text, StringComparison.Ordinal);
        await File.WriteAllTextAsync(config, text);

        var full = await world.ProducerAsync("run", "--config", config);
        Assert.True(full.ExitCode == 0, full.Stderr);
        await Task.Delay(1100);
        await Run.OutAsync("bash", "-e", "-c", $"cd {source} && {DeepDirScript} echo second > g");
        var incremental = await world.ProducerAsync("run", "--config", config);
        Assert.True(incremental.ExitCode == 0, incremental.Stderr);
        var setDir = Path.Combine(world.StoreDirPath, "prod-srv", "deep");
        var snapshots = Directory.GetFiles(setDir, "*.manifest").Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, snapshots.Count);
        Assert.True(File.Exists(Path.Combine(setDir, snapshots[1] + ".incr.btrfs.gpg")));

        var verify = await world.ProducerAsync("verify", "--config", config, "--all");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        var copy = world.CopySet(dir, setDir);
        await using var fromDir = await BtrfsLoopFixture.CreateAsync("rdeepdir");
        var restore = await world.ProducerAsync("restore", "--set", Set, "--from", copy, "--to", fromDir.MountDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        await AssertSameTreeAsync(world, snapshots, fromDir);

        await using var overSsh = await BtrfsLoopFixture.CreateAsync("rdeepssh");
        var restoreSsh = await world.ProducerAsync("restore", "--config", config, "--latest", "--to", overSsh.MountDirPath);
        Assert.True(restoreSsh.ExitCode == 0, restoreSsh.Stderr);
        await AssertSameTreeAsync(world, snapshots, overSsh);

        await using var scratch = await BtrfsLoopFixture.CreateAsync("rdeepdrill");
        var drill = await world.ProducerAsync("verify", "--restore-test", "--config", config, "--scratch", scratch.MountDirPath);
        Assert.True(drill.ExitCode == 0, drill.Stdout + drill.Stderr);
        Assert.StartsWith($"OK: restore test of {Set}/{snapshots[1]} (2 links,", drill.Stdout, StringComparison.Ordinal);
    }

    private static async Task AssertSameTreeAsync(RestoreWorld world, IReadOnlyList<string> snapshots, BtrfsLoopFixture target)
    {
        foreach (var snapshot in snapshots)
        {
            var received = target.PathOf(snapshot);
            var facts = await BtrfsLoopFixture.ShowAsync(received);
            Assert.True(facts.IsCompleteReceive, $"{received}: {facts}");
            Assert.Equal((await BtrfsLoopFixture.ShowAsync(world.SourceSnapshotPath(snapshot))).Uuid, facts.ReceivedUuid);
            // find walks with relative opens, so it lists paths longer than PATH_MAX; sha256sum runs from inside.
            Assert.Equal(await TreeAsync(world.SourceSnapshotPath(snapshot)), await TreeAsync(received));
        }

        var deepest = await Run.OutAsync("bash", "-e", "-c", $"cd {target.PathOf(snapshots[1])} && {DeepDirScript.Replace("mkdir -p ", "test -d ", StringComparison.Ordinal)} cat f g");
        Assert.Equal("first\nsecond\n", deepest);
    }

    private static async Task<string> TreeAsync(string root)
    {
        var tree = await Run.OutAsync("bash", "-e", "-c", $"cd {root} && find . -printf '%y %m %s %P\\n' | LC_ALL=C sort");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{new string('p', 253)}/f"), tree, StringComparison.Ordinal);
        return tree;
    }
}

using System.Globalization;
using BtrfsSend.Core.Processes;
using BtrfsSend.IntegrationTests.Producer;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Migration;

/// <summary>
/// Switching over from the shell scripts: a store and a STATE_FILE exactly as
/// <c>prod-btrfs-backup.sh</c> and <c>backup-receive-btrfs-stream.sh</c> leave them (real
/// <c>btrfs send | gpg --symmetric</c> streams under the scripts' file names, names-only manifests
/// with and without a parent line), adopted on the backup server, then used by this tool.
/// </summary>
public sealed class LegacyStoreTests
{
    private const string Set = "prod-srv/rootfs";

    /// <summary>
    /// Three snapshots a day apart (ending a day ago) on prod-srv, each changed a little, stored the
    /// scripts' way. <paramref name="parents"/>[i] is the index the i-th stream is really sent
    /// against (-1: full); <paramref name="manifestParents"/> says whether its manifest names it.
    /// </summary>
    private static async Task<string[]> ScriptsStoreAsync(BackupWorld world, int[] parents, bool[] manifestParents)
    {
        var names = new string[parents.Length];
        var first = DateTime.UtcNow.Date.AddDays(-parents.Length).AddHours(2).AddMinutes(5);
        Directory.CreateDirectory(world.SetDirPath, (UnixFileMode)0b111_101_000);
        for (var i = 0; i < parents.Length; i++)
        {
            var time = first.AddDays(i);
            names[i] = $"prod-srv-rootfs-{time.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";
            await File.WriteAllTextAsync(Path.Combine(world.RootfsPath, "etc/hostname"), $"state {i}\n");
            await File.WriteAllBytesAsync(Path.Combine(world.RootfsPath, $"var/day-{i}.bin"), Enumerable.Range(0, 50_000 + i).Select(b => (byte)(b * (i + 3))).ToArray());
            await world.Prod.SnapshotReadOnlyAsync(world.RootfsPath, Path.Combine("@backup-snapshots", names[i]));
            var full = parents[i] < 0;
            var stream = Path.Combine(world.SetDirPath, names[i] + (full ? ".full.btrfs.gpg" : ".incr.btrfs.gpg"));
            string[] send = full
                ? ["send", "-q", Path.Combine(world.SnapshotDirPath, names[i])]
                : ["send", "-q", "-p", Path.Combine(world.SnapshotDirPath, names[parents[i]]), Path.Combine(world.SnapshotDirPath, names[i])];
            var gpg = world.Gpg.GpgWithPassphrase("--s2k-count", "65536", "--symmetric", "--output", stream);
            await (Cli.Wrap("btrfs").WithArguments(send) | Cli.Wrap(gpg[0]).WithArguments(gpg.Skip(1))).ExecuteAsync();
            var manifest = Path.Combine(world.SetDirPath, names[i] + ".manifest");
            await File.WriteAllTextAsync(manifest, $"snapshot={names[i]}\n" + (!full && manifestParents[i] ? $"parent={names[parents[i]]}\n" : ""));
            foreach (var file in new[] { stream, manifest })
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead);
                File.SetLastWriteTimeUtc(file, time.AddSeconds(70));
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(world.StateFilePath)!);
        await File.WriteAllTextAsync(world.StateFilePath, names[^1] + "\n");
        return names;
    }

    private static Task<ToolResult> ReceiverAsync(BackupWorld world, params string[] args)
        => new ToolRunner(new Dictionary<string, string?> { ["KEEP_DAILY"] = "1" }).TryRunAsync([ProgramBinaries.Receiver, .. args, "--config", world.ReceiverConfigFilePath]);

    private static SortedDictionary<string, string> Files(string dir) => new(
        Directory.GetFiles(dir).Where(f => !f.EndsWith("/.lock", StringComparison.Ordinal)).ToDictionary(
            f => Path.GetFileName(f),
            f => $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))} {File.GetUnixFileMode(f)} {File.GetLastWriteTimeUtc(f):O}"),
        StringComparer.Ordinal);

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task An_adopted_store_of_the_scripts_is_listed_checked_pruned_verified_restored_bit_exact_and_continued_incrementally()
    {
        await using var world = await BackupWorld.CreateAsync();
        var names = await ScriptsStoreAsync(world, parents: [-1, 0, 1], manifestParents: [false, true, false]);
        var untouched = Files(world.SetDirPath);

        // Before adopt the receiver sees no backup at all.
        Assert.Equal("", (await ReceiverAsync(world, "list", "--set", Set)).StandardOutput);

        var dryRun = await ReceiverAsync(world, "adopt", "--set", Set, "--dry-run");
        Assert.True(dryRun.ExitCode == 0, dryRun.StandardOutput + dryRun.StandardErrorTail);
        Assert.Equal(untouched, Files(world.SetDirPath));
        Assert.Contains($"adopt   {names[2]}: incremental on {names[1]} (the scripts' manifest names no parent: inferred", dryRun.StandardOutput, StringComparison.Ordinal);

        var adopt = await ReceiverAsync(world, "adopt", "--set", Set);
        Assert.True(adopt.ExitCode == 0, adopt.StandardOutput + adopt.StandardErrorTail);
        Assert.Contains("adopted 3, 0 already had a manifest of ours, 0 refused", adopt.StandardOutput, StringComparison.Ordinal);
        foreach (var (file, facts) in untouched.Where(f => f.Key.EndsWith(".btrfs.gpg", StringComparison.Ordinal)))
        {
            Assert.Equal(facts, Files(world.SetDirPath)[file]); // the streams themselves are not touched
        }

        foreach (var name in names)
        {
            Assert.Equal(untouched[name + ".manifest"].Split(' ')[0], Files(world.SetDirPath)[name + ".scripts-manifest"].Split(' ')[0]);
        }

        // Adopting twice changes nothing.
        var adopted = Files(world.SetDirPath);
        var again = await ReceiverAsync(world, "adopt", "--set", Set);
        Assert.True(again.ExitCode == 0, again.StandardOutput);
        Assert.Contains("adopted 0, 3 already had a manifest of ours, 0 refused", again.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(adopted, Files(world.SetDirPath));

        // list, check and prune --dry-run see the whole history.
        var list = await ReceiverAsync(world, "list", "--set", Set);
        Assert.True(list.ExitCode == 0 && list.StandardErrorTail.Trim().Length == 0, list.StandardErrorTail);
        Assert.Equal(names, list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[1]));
        var check = await ReceiverAsync(world, "check", "--set", Set, "--max-age", "3d", "--verify-data");
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardErrorTail);
        Assert.DoesNotContain("without a manifest", check.StandardOutput, StringComparison.Ordinal);
        var prune = await ReceiverAsync(world, "prune", "--set", Set, "--dry-run");
        Assert.True(prune.ExitCode == 0, prune.StandardErrorTail);
        Assert.Contains($"keep    {names[0]}", prune.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("would keep 3, delete 0", prune.StandardOutput, StringComparison.Ordinal);

        // verify (with the key, on prod-srv) proves the inferred link by the streams' UUIDs.
        var verify = await world.RunProducerAsync("verify", "--set", Set, "--from", world.SetDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--all", "--allow-unbound");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
        Assert.Contains($"PROVEN {names[2]}  parent {names[1]} (a parent inferred by adopt) matches by UUID {(await BtrfsLoopFixture.ShowAsync(Path.Combine(world.SnapshotDirPath, names[1]))).Uuid}", verify.Stdout, StringComparison.Ordinal);
        var overSsh = await world.RunProducerAsync("verify", "--all", "--allow-unbound");
        Assert.True(overSsh.ExitCode == 0, overSsh.Stdout + overSsh.Stderr);

        // restore over ssh of the newest adopted snapshot is bit-exact.
        await using (var target = await BtrfsLoopFixture.CreateAsync("adoptrestore", 512L * 1024 * 1024))
        {
            var restore = await world.RunProducerAsync("restore", "--to", target.MountDirPath, "--allow-unbound");
            Assert.True(restore.ExitCode == 0, restore.Stdout + restore.Stderr);
            await TreeDump.AssertSameAsync(Path.Combine(world.SnapshotDirPath, names[2]), target.PathOf(names[2]), [.. TreeAllowance.BtrfsSendLimits]);
        }

        // The producer's next run, with the scripts' STATE_FILE, is an incremental on the adopted newest.
        var run = await world.RunProducerAsync();
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains($"incremental against {names[2]}", run.Stderr, StringComparison.Ordinal);
        var streams = world.StoredStreams();
        Assert.Equal(4, streams.Count);
        Assert.EndsWith(".incr.btrfs.gpg", streams[3], StringComparison.Ordinal);
        Assert.Contains($"parent={names[2]}", await File.ReadAllTextAsync(streams[3].Replace(".incr.btrfs.gpg", ".manifest", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_wrongly_inferred_parent_is_caught_by_verify_on_its_link()
    {
        await using var world = await BackupWorld.CreateAsync();
        // The third stream was really sent against the first, but its manifest names no parent:
        // adopt infers the second (the previous in time), which is wrong.
        var names = await ScriptsStoreAsync(world, parents: [-1, 0, 0], manifestParents: [false, true, false]);
        var adopt = await ReceiverAsync(world, "adopt", "--set", Set);
        Assert.True(adopt.ExitCode == 0, adopt.StandardOutput + adopt.StandardErrorTail);

        var verify = await world.RunProducerAsync("verify", "--set", Set, "--from", world.SetDirPath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--all", "--allow-unbound");

        Assert.Equal(8, verify.ExitCode);
        var fail = Assert.Single(verify.Stdout.Split('\n'), l => l.StartsWith("FAIL", StringComparison.Ordinal));
        var first = await BtrfsLoopFixture.ShowAsync(Path.Combine(world.SnapshotDirPath, names[0]));
        Assert.Equal(
            $"FAIL  {names[2]}  chain: its parent {names[1]} (a parent inferred by adopt) does not match: the stream was sent against the subvolume {first.Uuid}, but {names[1]}'s stream creates {(await BtrfsLoopFixture.ShowAsync(Path.Combine(world.SnapshotDirPath, names[1]))).Uuid}; the stream that creates it is {names[0]}; restoring {names[2]} will fail",
            fail);

        // Meanwhile retention keeps every stream older than the unproven link.
        var prune = await ReceiverAsync(world, "prune", "--set", Set, "--dry-run");
        Assert.Contains($"keep    {names[0]}", prune.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"chain unproven: older than {names[2]}", prune.StandardOutput, StringComparison.Ordinal);
    }
}

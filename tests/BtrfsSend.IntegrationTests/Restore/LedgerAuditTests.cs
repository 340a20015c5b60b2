using System.Text.Json;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// The ledger the world's four real runs wrote, and <c>audit</c> / <c>restore --latest</c> against
/// the real receiver over ssh, with the store changed underneath it as root (a compromised
/// backup server). Every change is undone in a finally.
/// </summary>
[Collection(RestoreCollection.Name)]
public sealed class LedgerAuditTests(RestoreWorldFixture fixture)
{
    private static string LedgerPath(RestoreWorld world) => world.Dir.Sub("state", "last-sent") + ".ledger";

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Every_acknowledged_upload_is_in_the_ledger_0600_with_the_manifests_size_and_hash()
    {
        var world = await fixture.WorldAsync();

        var records = new UploadLedger(LedgerPath(world)).Read();

        Assert.Equal(UploadLedger.Mode, File.GetUnixFileMode(LedgerPath(world)));
        Assert.Equal(world.Snapshots, records.Select(r => r.Snapshot.Value));
        foreach (var record in records)
        {
            var path = Path.Combine(world.SetDirPath, record.Snapshot.Value + ".manifest");
            var manifest = ManifestReader.Parse(await File.ReadAllBytesAsync(path), path).Manifest!;
            Assert.Equal(RestoreWorld.Set, record.Set.Value);
            Assert.Equal(manifest.Kind, record.Kind);
            Assert.Equal(manifest.Parent, record.Parent);
            Assert.Equal(manifest.StreamBytes, record.Bytes);
            Assert.Equal(manifest.StreamSha256, record.Sha256);
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Audit_of_an_untouched_store_is_OK_exit_0_with_the_newest_hash_checked_and_as_JSON()
    {
        var world = await fixture.WorldAsync();

        var audit = await world.ProducerAsync("audit", "--config", world.ConfigFilePath);
        var json = await world.ProducerAsync("audit", "--config", world.ConfigFilePath, "--json", "--no-fetch");

        Assert.True(audit.ExitCode == 0, audit.Stdout + audit.Stderr);
        var line = Assert.Single(audit.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"OK: audit of {RestoreWorld.Set} at {world.Sshd.Target}: the newest acknowledged upload {world.Snapshots[3]} (incremental, ", line, StringComparison.Ordinal);
        Assert.EndsWith("and its chain of 4 link(s) are stored as acknowledged, the newest's SHA-256 checked (4 ledger record(s))", line, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.Stdout + json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal("OK", doc.RootElement.GetProperty("status").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("code").GetInt32());
        Assert.Equal(RestoreWorld.Set, doc.RootElement.GetProperty("set").GetString());
        Assert.Equal(world.Snapshots[3], doc.RootElement.GetProperty("newest").GetString());
        Assert.Equal(4, doc.RootElement.GetProperty("chain_links").GetInt32());
        Assert.False(doc.RootElement.GetProperty("sha256_checked").GetBoolean());
    }

    [Trait("Category", "Fault")]
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_store_whose_newest_stream_was_deleted_is_CRITICAL_and_restore_latest_refuses_unless_allowed()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("raudit");
        var newest = world.Snapshots[3];
        string[] names = [newest + ".incr.btrfs.gpg", newest + ".manifest"];
        await using var target = await BtrfsLoopFixture.CreateAsync("rauditt");
        (int ExitCode, string Stdout, string Stderr) audit, restore, allowed;
        try
        {
            foreach (var name in names)
            {
                File.Move(Path.Combine(world.SetDirPath, name), dir.Sub(name));
            }

            audit = await world.ProducerAsync("audit", "--config", world.ConfigFilePath);
            restore = await world.ProducerAsync("restore", "--config", world.ConfigFilePath, "--latest", "--to", target.MountDirPath);
            allowed = await world.ProducerAsync("restore", "--config", world.ConfigFilePath, "--latest", "--allow-rollback", "--dry-run", "--to", target.MountDirPath);
        }
        finally
        {
            foreach (var name in names.Where(n => File.Exists(dir.Sub(n))))
            {
                File.Move(dir.Sub(name), Path.Combine(world.SetDirPath, name));
            }
        }

        Assert.True(audit.ExitCode == 2, audit.Stdout + audit.Stderr);
        var line = Assert.Single(audit.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"CRITICAL: audit of {RestoreWorld.Set} at {world.Sshd.Target}: the newest acknowledged upload {newest} (incremental, ", line, StringComparison.Ordinal);
        Assert.EndsWith("is missing on the receiver (deleted, or the store rolled back)", line, StringComparison.Ordinal);
        Assert.True(restore.ExitCode == 8, restore.Stdout + restore.Stderr);
        Assert.Contains($"is {world.Snapshots[2]}, older than the newest acknowledged upload {newest} in LEDGER_FILE {LedgerPath(world)}", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
        Assert.True(allowed.ExitCode == 0, allowed.Stdout + allowed.Stderr);
        Assert.Contains(world.Snapshots[2], allowed.Stdout, StringComparison.Ordinal);
        var after = await world.ProducerAsync("audit", "--config", world.ConfigFilePath, "--no-fetch");
        Assert.True(after.ExitCode == 0, after.Stdout + after.Stderr);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task The_restore_drill_over_ssh_refuses_a_store_whose_newest_stream_was_deleted_as_CRITICAL_unless_allowed()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rdrillrb");
        var newest = world.Snapshots[3];
        string[] names = [newest + ".incr.btrfs.gpg", newest + ".manifest"];
        await using var scratch = await BtrfsLoopFixture.CreateAsync("rdrillrb");
        (int ExitCode, string Stdout, string Stderr) drill, allowed;
        try
        {
            foreach (var name in names)
            {
                File.Move(Path.Combine(world.SetDirPath, name), dir.Sub(name));
            }

            drill = await world.ProducerAsync("verify", "--restore-test", "--config", world.ConfigFilePath, "--scratch", scratch.MountDirPath);
            Assert.Empty(await scratch.ListSubvolumesAsync());
            allowed = await world.ProducerAsync("verify", "--restore-test", "--allow-rollback", "--config", world.ConfigFilePath, "--scratch", scratch.MountDirPath);
        }
        finally
        {
            foreach (var name in names.Where(n => File.Exists(dir.Sub(n))))
            {
                File.Move(dir.Sub(name), Path.Combine(world.SetDirPath, name));
            }
        }

        Assert.True(drill.ExitCode == 2, drill.Stdout + drill.Stderr);
        var line = Assert.Single(drill.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"CRITICAL: restore test of {RestoreWorld.Set}: the newest stored snapshot of {RestoreWorld.Set} at ", line, StringComparison.Ordinal);
        Assert.Contains($"is {world.Snapshots[2]}, older than the newest acknowledged upload {newest} in LEDGER_FILE {LedgerPath(world)}", line, StringComparison.Ordinal);
        Assert.EndsWith("nothing was tested; to test the older one anyway give --allow-rollback or --snapshot NAME", line, StringComparison.Ordinal);
        Assert.True(allowed.ExitCode == 0, allowed.Stdout + allowed.Stderr);
        Assert.StartsWith($"OK: restore test of {RestoreWorld.Set}/{world.Snapshots[2]} (3 links,", allowed.Stdout, StringComparison.Ordinal);
        Assert.Empty(await scratch.ListSubvolumesAsync());
        Assert.Empty(Directory.GetFileSystemEntries(scratch.MountDirPath));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Plain_verify_refuses_allow_rollback_which_only_goes_with_the_restore_drill()
    {
        var world = await fixture.WorldAsync();

        var verify = await world.ProducerAsync("verify", "--allow-rollback", "--config", world.ConfigFilePath);

        Assert.True(verify.ExitCode == 3, verify.Stdout + verify.Stderr);
        Assert.Contains("--allow-rollback only goes with --restore-test (or restore --latest)", verify.Stderr, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_newest_stream_replaced_with_one_of_the_same_size_and_a_matching_manifest_is_CRITICAL_by_its_SHA256()
    {
        var world = await fixture.WorldAsync();
        var newest = world.Snapshots[3];
        var streamPath = Path.Combine(world.SetDirPath, newest + ".incr.btrfs.gpg");
        var manifestPath = Path.Combine(world.SetDirPath, newest + ".manifest");
        var stream = await File.ReadAllBytesAsync(streamPath);
        var manifestBytes = await File.ReadAllBytesAsync(manifestPath);
        (int ExitCode, string Stdout, string Stderr) fetched, listOnly;
        try
        {
            // As root on backup-srv: new bytes, and a manifest that agrees with them.
            var forged = (byte[])stream.Clone();
            forged[forged.Length / 2] ^= 0x40;
            var manifest = ManifestReader.Parse(manifestBytes, manifestPath).Manifest!;
            await File.WriteAllBytesAsync(streamPath, forged);
            await File.WriteAllTextAsync(manifestPath, ManifestWriter.Render(manifest with { StreamSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(forged)) }));
            fetched = await world.ProducerAsync("audit", "--config", world.ConfigFilePath);
            listOnly = await world.ProducerAsync("audit", "--config", world.ConfigFilePath, "--no-fetch");
        }
        finally
        {
            await File.WriteAllBytesAsync(streamPath, stream);
            await File.WriteAllBytesAsync(manifestPath, manifestBytes);
            File.SetUnixFileMode(streamPath, UnixFileMode.UserRead);
            File.SetUnixFileMode(manifestPath, UnixFileMode.UserRead);
        }

        Assert.True(fetched.ExitCode == 2, fetched.Stdout + fetched.Stderr);
        var record = UploadLedger.NewestOf(new UploadLedger(LedgerPath(world)).Read(), BackupSet.Parse(RestoreWorld.Set))!;
        Assert.Contains($"the newest acknowledged upload {newest} is stored with SHA-256 ", fetched.Stdout, StringComparison.Ordinal);
        Assert.Contains($", but {record.Sha256} was acknowledged (replaced on the receiver)", fetched.Stdout, StringComparison.Ordinal);
        Assert.True(listOnly.ExitCode == 0, "the list alone cannot see a same-size replacement: " + listOnly.Stdout);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_ledger_that_is_a_symlink_stops_the_run_before_any_snapshot_and_audit_is_UNKNOWN()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rledger");
        var target = dir.Sub("real-ledger");
        await File.WriteAllTextAsync(target, "");
        File.SetUnixFileMode(target, UploadLedger.Mode);
        File.CreateSymbolicLink(dir.Sub("ledger"), target);
        var config = dir.Sub("prod.conf");
        await File.WriteAllTextAsync(config, await File.ReadAllTextAsync(world.ConfigFilePath) + $"LEDGER_FILE={dir.Sub("ledger")}\n");
        var before = Directory.GetDirectories(world.SnapshotDirPath).Order(StringComparer.Ordinal).ToList();

        var run = await world.ProducerAsync("run", "--config", config);
        var audit = await world.ProducerAsync("audit", "--config", config);

        Assert.True(run.ExitCode == 3, run.Stderr);
        Assert.Contains($"LEDGER_FILE {dir.Sub("ledger")} is a symlink", run.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetDirectories(world.SnapshotDirPath).Order(StringComparer.Ordinal).ToList());
        Assert.Equal("", await File.ReadAllTextAsync(target));
        Assert.Equal(3, audit.ExitCode);
        Assert.StartsWith($"UNKNOWN: audit of {RestoreWorld.Set}: the ledger is unusable: LEDGER_FILE {dir.Sub("ledger")} is a symlink", audit.Stdout, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Audit_in_remote_btrfs_mode_is_UNKNOWN_exit_3_saying_it_is_not_supported()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("rledgerrb");
        var key = dir.Sub("luks-key");
        await File.WriteAllTextAsync(key, "k\n");
        File.SetUnixFileMode(key, UploadLedger.Mode);
        var config = dir.Sub("prod.conf");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(world.ConfigFilePath)).Replace("BACKUP_MODE=encrypted-stream", "BACKUP_MODE=remote-btrfs", StringComparison.Ordinal) + $"LUKS_KEY_FILE={key}\n");

        var audit = await world.ProducerAsync("audit", "--config", config);

        Assert.True(audit.ExitCode == 3, audit.Stdout + audit.Stderr);
        Assert.StartsWith($"UNKNOWN: audit of {RestoreWorld.Set}: not supported in BACKUP_MODE=remote-btrfs", audit.Stdout, StringComparison.Ordinal);
    }
}

using System.Security.Cryptography;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Processes;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Offsite;

/// <summary><c>check</c> and <c>prune --offsite</c> against the real S3 server.</summary>
public sealed class OffsiteCheckAndPruneTests(CephS3Fixture s3) : IClassFixture<CephS3Fixture>, IDisposable
{
    private const string Set = "prod/rootfs";
    private readonly ReceiverHarness _h = new();
    private readonly DateTime _now = DateTime.UtcNow;

    public void Dispose() => _h.Dispose();

    private static string NameAt(DateTime t) => $"root-{t:yyyyMMdd'T'HHmmss'Z'}";

    private string Store(double hoursAgo, string? parent = null)
    {
        var received = _now.AddHours(-hoursAgo);
        _h.StoreDirect(Set, NameAt(received), received, parent, RandomNumberGenerator.GetBytes(3000));
        return NameAt(received);
    }

    private string Config(string bucket, string lockMode = "compliance", string extra = "")
    {
        var path = Path.Combine(_h.DirPath, "receiver.conf");
        File.WriteAllText(path, $"BACKUP_ROOT={_h.RootDirPath}\nMIN_FREE_SPACE=0\n" + s3.ConfigLines(bucket, "", lockMode, lockDays: 1) + extra);
        return path;
    }

    private static async Task<ToolResult> RunAsync(string config, params string[] args)
        => await new ToolRunner(new Dictionary<string, string?> { ["BTRFS_SEND_LOG_LEVEL"] = null })
            .TryRunAsync([ProgramBinaries.Receiver, .. args, "--config", config]);

    private static JsonElement SetJson(ToolResult check)
        => JsonDocument.Parse(check.StandardOutput).RootElement.GetProperty("sets")[0];

    [CephS3Fact]
    public async Task Check_counts_streams_not_yet_offsite_goes_critical_past_S3_CRIT_AGE_and_is_quiet_after_replicate()
    {
        var old = Store(80);
        Store(2, parent: old);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var config = Config(bucket);

        var before = await RunAsync(config, "check", "--json");
        Assert.Equal(0, (await RunAsync(config, "replicate")).ExitCode);
        var after = await RunAsync(config, "check", "--json");
        var prometheus = Path.Combine(_h.DirPath, "metrics.prom");
        await RunAsync(config, "check", "--prometheus", prometheus);

        Assert.Equal(2, before.ExitCode);
        Assert.Contains($"2 stream(s) not offsite in bucket {bucket}; the oldest, {old}", before.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(2, SetJson(before).GetProperty("offsite_pending").GetInt32());
        Assert.InRange(SetJson(before).GetProperty("offsite_oldest_pending_age_seconds").GetDouble(), 80 * 3600 - 60, 80 * 3600 + 600);
        Assert.True(after.ExitCode == 0, after.StandardOutput);
        Assert.Equal(0, SetJson(after).GetProperty("offsite_pending").GetInt32());
        Assert.True(SetJson(after).GetProperty("offsite_bucket_locked").GetBoolean());
        var metrics = File.ReadAllText(prometheus);
        Assert.Contains("btrfs_backup_offsite_pending_streams{set=\"prod/rootfs\"} 0", metrics, StringComparison.Ordinal);
        Assert.Contains("btrfs_backup_offsite_bucket_locked{set=\"prod/rootfs\"} 1", metrics, StringComparison.Ordinal);
    }

    [CephS3Fact]
    public async Task Check_warns_when_the_bucket_has_no_Object_Lock()
    {
        Store(1);
        var bucket = await s3.CreateBucketAsync(objectLock: false);
        var config = Config(bucket);
        Assert.Equal(0, (await RunAsync(config, "replicate")).ExitCode);

        var check = await RunAsync(config, "check");

        Assert.Equal(1, check.ExitCode);
        Assert.Contains($"bucket {bucket} is unlocked (no Object Lock)", check.StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>
    /// Lock expiry on a real server without waiting days: the copies are written in GOVERNANCE mode
    /// (S3_LOCK_DAYS=1), and the test, with the admin's bypass right, shortens the retention of some
    /// of them to two seconds from now, as time passing would. The receiver's prune never bypasses.
    /// </summary>
    [CephS3Fact]
    public async Task Offsite_prune_deletes_every_version_of_unkept_streams_whose_lock_expired_and_never_a_locked_one_or_an_ancestor()
    {
        var a = Store(5 * 24);                  // full          -- delete (lock expired)
        var a1 = Store(4 * 24, parent: a);      // incr of a     -- delete (lock expired)
        var b = Store(3 * 24);                  // full          -- not kept by policy, but still locked
        var c = Store(2 * 24);                  // full          -- ancestor of the kept newest
        var c1 = Store(1, parent: c);           // incr of c     -- newest, kept
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var config = Config(bucket, "governance", "KEEP_DAILY=1\n");
        Assert.Equal(0, (await RunAsync(config, "replicate")).ExitCode);
        var lockedDry = await RunAsync(config, "prune", "--offsite", "--all", "--dry-run");

        var expire = DateTime.UtcNow.AddSeconds(2);
        foreach (var version in (await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket })).Versions)
        {
            if (!version.Key.Contains(b, StringComparison.Ordinal))
            {
                await s3.Client.PutObjectRetentionAsync(new PutObjectRetentionRequest
                {
                    BucketName = bucket,
                    Key = version.Key,
                    VersionId = version.VersionId,
                    BypassGovernanceRetention = true,
                    Retention = new ObjectLockRetention { Mode = ObjectLockRetentionMode.Governance, RetainUntilDate = expire },
                });
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var dry = await RunAsync(config, "prune", "--offsite", "--all", "--dry-run");
        var prune = await RunAsync(config, "prune", "--offsite", "--all");

        Assert.Equal(0, lockedDry.ExitCode);
        Assert.DoesNotContain("\ndelete", "\n" + lockedDry.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains($"delete  {a}", dry.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"delete  {a1}", dry.StandardOutput, StringComparison.Ordinal);
        Assert.Matches($"keep +{b} .*offsite: locked until", dry.StandardOutput);
        Assert.Matches($"keep +{c} .*ancestor of {c1}", dry.StandardOutput);
        Assert.True(prune.ExitCode == 0, prune.StandardErrorTail);
        Assert.Contains("deleted 2", prune.StandardErrorTail, StringComparison.Ordinal);
        var left = ((await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket })).Versions ?? []).Select(v => v.Key).ToList();
        Assert.DoesNotContain(left, k => k.Contains(a, StringComparison.Ordinal) || k.Contains(a1, StringComparison.Ordinal));
        foreach (var kept in new[] { b, c, c1 })
        {
            Assert.Contains(left, k => k.EndsWith(kept + ".manifest", StringComparison.Ordinal));
            Assert.Contains(left, k => k.Contains(kept + ".", StringComparison.Ordinal) && k.EndsWith(".btrfs.gpg", StringComparison.Ordinal));
        }

        Assert.Equal(5, _h.Store.Read(ReceiverHarness.Set(Set)).Streams.Count);
    }
}

using System.Security.Cryptography;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Retention;
using BtrfsSend.Receiver.Offsite;
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

    private string Config(string bucket, string lockMode = "compliance", string extra = "", int lockDays = 1)
    {
        var path = Path.Combine(_h.DirPath, "receiver.conf");
        File.WriteAllText(path, $"BACKUP_ROOT={_h.RootDirPath}\nMIN_FREE_SPACE=0\n" + s3.ConfigLines(bucket, "", lockMode, lockDays) + extra);
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
    /// Sets the retention of every version whose key contains <paramref name="snapshot"/>, as the
    /// bucket's admin may in GOVERNANCE mode (shortening needs the bypass right, which the
    /// receiver never uses): how the tests make a lock expire on the real server without waiting days.
    /// </summary>
    private async Task RetainAsync(string bucket, string snapshot, DateTime until)
    {
        foreach (var version in (await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket })).Versions.Where(v => v.Key.Contains(snapshot + ".", StringComparison.Ordinal)))
        {
            await s3.Client.PutObjectRetentionAsync(new PutObjectRetentionRequest
            {
                BucketName = bucket,
                Key = version.Key,
                VersionId = version.VersionId,
                BypassGovernanceRetention = true,
                Retention = new ObjectLockRetention { Mode = ObjectLockRetentionMode.Governance, RetainUntilDate = until },
            });
        }
    }

    private async Task<List<string>> KeysAsync(string bucket)
        => ((await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket })).Versions ?? []).Select(v => v.Key).ToList();

    private static string Utc(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The server's retention is not the only word: a stream is kept while received_at +
    /// S3_LOCK_DAYS (the rule replicate locked it with) lies ahead, even when the server reports a
    /// retention that already ended (shortened here by the admin; a server that reports none looks the same).
    /// </summary>
    [CephS3Fact]
    public async Task Offsite_prune_keeps_streams_received_at_plus_S3_LOCK_DAYS_still_locks_even_when_the_server_reports_an_expired_retention()
    {
        var a = Store(5 * 24);
        var a1 = Store(4 * 24, parent: a);
        Store(1);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var config = Config(bucket, "governance", "KEEP_DAILY=1\n", lockDays: 7);
        Assert.Equal(0, (await RunAsync(config, "replicate")).ExitCode);
        foreach (var snapshot in new[] { a, a1 })
        {
            await RetainAsync(bucket, snapshot, DateTime.UtcNow.AddSeconds(2));
        }

        await Task.Delay(TimeSpan.FromSeconds(3));
        var before = await KeysAsync(bucket);
        var dry = await RunAsync(config, "prune", "--offsite", "--all", "--dry-run");
        var prune = await RunAsync(config, "prune", "--offsite", "--all");

        Assert.True(dry.ExitCode == 0, dry.StandardErrorTail);
        Assert.Contains($"offsite: locked until {Utc(_now.AddHours(-5 * 24).AddDays(7))} (received_at + S3_LOCK_DAYS)", dry.StandardOutput, StringComparison.Ordinal);
        Assert.Matches($"keep +{a1} .*offsite: locked until {Utc(_now.AddHours(-4 * 24).AddDays(7))} \\(received_at \\+ S3_LOCK_DAYS\\)", dry.StandardOutput);
        Assert.DoesNotContain("\ndelete", "\n" + dry.StandardOutput, StringComparison.Ordinal);
        Assert.True(prune.ExitCode == 0, prune.StandardErrorTail);
        Assert.Contains("deleted 0", prune.StandardErrorTail, StringComparison.Ordinal);
        Assert.Equal(before.Order(StringComparer.Ordinal), (await KeysAsync(bucket)).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Lock expiry on the real server, seen from a receiver whose clock is three days ahead (the
    /// pruner runs in-process with that clock; every S3_LOCK_DAYS=1 lock the rule computes has
    /// ended for it). The server decides for itself: it refuses deleting a version before its
    /// retention ends, and so refuses e1, whose retention was left as replicate wrote it; the
    /// admin shortened the others' (a, a1, e) and lengthened b's.
    /// </summary>
    [CephS3Fact]
    public async Task Offsite_prune_after_lock_expiry_deletes_only_unkept_streams_and_keeps_a_stream_the_server_still_locks_with_its_ancestors()
    {
        var a = Store(5 * 24);                  // full               -- delete (lock expired)
        var a1 = Store(4.5 * 24, parent: a);    // incr of a          -- delete (lock expired)
        var b = Store(4 * 24);                  // full               -- kept: the server's retention is longer than the rule's
        var e = Store(3.5 * 24);                // full               -- deletable, but kept: the server refuses e1
        var e1 = Store(3 * 24, parent: e);      // incr of e          -- the server refuses (still locked for real)
        var c = Store(2 * 24);                  // full               -- ancestor of the kept newest
        var c1 = Store(1, parent: c);           // incr of c          -- newest, kept
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        Assert.Equal(0, (await RunAsync(Config(bucket, "governance", "KEEP_DAILY=1\n"), "replicate")).ExitCode);
        var versionOfA = (await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket })).Versions.First(v => v.Key.EndsWith(a + ".full.btrfs.gpg", StringComparison.Ordinal));
        var refusedBeforeExpiry = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = bucket, Key = versionOfA.Key, VersionId = versionOfA.VersionId }));
        foreach (var snapshot in new[] { a, a1, e })
        {
            await RetainAsync(bucket, snapshot, DateTime.UtcNow.AddSeconds(2));
        }

        var bUntil = DateTime.UtcNow.AddDays(10);
        await RetainAsync(bucket, b, bUntil);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var sink = new MemorySink();
        var pruner = new OffsitePruner(s3.Options(bucket, "", ObjectLockSetting.Governance, lockDays: 1), s3.Client, new RetentionPolicy(0, 1, 0, 0, 0),
            sink.CreateLogger(), new ManualClock(DateTimeOffset.UtcNow.AddDays(3)));
        var dry = new StringWriter();

        await pruner.PruneAsync(ReceiverHarness.Set(Set), dryRun: true, dry, CancellationToken.None);
        var outcome = await pruner.PruneAsync(ReceiverHarness.Set(Set), dryRun: false, TextWriter.Null, CancellationToken.None);

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refusedBeforeExpiry.StatusCode);
        Assert.Contains($"delete  {a}", dry.ToString(), StringComparison.Ordinal);
        Assert.Contains($"delete  {a1}", dry.ToString(), StringComparison.Ordinal);
        Assert.Matches($"keep +{b} .*offsite: locked until {Utc(bUntil)} \\(the server's retention\\)", dry.ToString());
        Assert.Matches($"keep +{c} .*ancestor of {c1}", dry.ToString());
        Assert.Equal(2, outcome.Deleted);
        Assert.Contains($"refused deleting {e1} (AccessDenied", outcome.Failure, StringComparison.Ordinal);
        var left = await KeysAsync(bucket);
        Assert.DoesNotContain(left, k => k.Contains(a + ".", StringComparison.Ordinal) || k.Contains(a1 + ".", StringComparison.Ordinal));
        foreach (var kept in new[] { b, e, e1, c, c1 })
        {
            Assert.Contains(left, k => k.EndsWith(kept + ".manifest", StringComparison.Ordinal));
            Assert.Contains(left, k => k.Contains(kept + ".", StringComparison.Ordinal) && k.EndsWith(".btrfs.gpg", StringComparison.Ordinal));
        }

        Assert.Equal(7, _h.Store.Read(ReceiverHarness.Set(Set)).Streams.Count);
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Processes;
using BtrfsSend.Receiver.Offsite;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Offsite;

/// <summary><c>btrfs-backup-receive replicate</c> against the real S3 server (single-node Ceph radosgw with Object Lock).</summary>
public sealed class ReplicateTests(CephS3Fixture s3) : IClassFixture<CephS3Fixture>, IDisposable
{
    private const string Set = "prod/rootfs";
    private readonly ReceiverHarness _h = new();
    private readonly DateTime _now = DateTime.UtcNow;

    public void Dispose() => _h.Dispose();

    private static string NameAt(DateTime t) => $"root-{t:yyyyMMdd'T'HHmmss'Z'}";

    /// <summary>full ← incr ← incr, received 3, 2 and 1 hours ago; the middle one bigger than one part (multipart).</summary>
    private List<(string Name, byte[] Payload)> Chain(int bigBytes = 20 << 20)
    {
        var result = new List<(string, byte[])>();
        for (var i = 0; i < 3; i++)
        {
            var received = _now.AddHours(i - 3);
            var payload = RandomNumberGenerator.GetBytes(i == 1 ? bigBytes : 1000 + i);
            _h.StoreDirect(Set, NameAt(received), received, parent: i == 0 ? null : result[^1].Item1, payload: payload);
            result.Add((NameAt(received), payload));
        }

        return result;
    }

    private string Config(string bucket, string? endpoint = null, string? credentials = null, string lockMode = "compliance")
    {
        var path = Path.Combine(_h.DirPath, "receiver.conf");
        File.WriteAllText(path, $"BACKUP_ROOT={_h.RootDirPath}\nMIN_FREE_SPACE=0\n" + s3.ConfigLines(bucket, "offsite/test", lockMode, lockDays: 2)
            + (endpoint is null ? "" : $"S3_ENDPOINT={endpoint}\n")
            + (credentials is null ? "" : $"S3_CREDENTIALS_FILE={credentials}\n"));
        return path;
    }

    /// <summary>Runs the receiver as cron does: cleared environment (one summary line on success).</summary>
    private static async Task<ToolResult> ReplicateAsync(string config, params string[] more)
        => await new ToolRunner(new Dictionary<string, string?> { ["BTRFS_SEND_LOG_LEVEL"] = null })
            .TryRunAsync([ProgramBinaries.Receiver, "replicate", "--config", config, .. more]);

    private static string Key(string name, bool full = false) => $"offsite/test/{Set}/{name}{(full ? ".full.btrfs.gpg" : ".incr.btrfs.gpg")}";

    private async Task<byte[]> GetAsync(string bucket, string key)
    {
        using var get = await s3.Client.GetObjectAsync(bucket, key);
        var memory = new MemoryStream();
        await get.ResponseStream.CopyToAsync(memory);
        return memory.ToArray();
    }

    private async Task<List<S3ObjectVersion>> VersionsAsync(string bucket)
        => (await s3.Client.ListVersionsAsync(new ListVersionsRequest { BucketName = bucket })).Versions ?? [];

    private string RecordText => File.Exists(Path.Combine(_h.SetDirPath(Set), OffsiteRecord.FileName)) ? File.ReadAllText(Path.Combine(_h.SetDirPath(Set), OffsiteRecord.FileName)) : "";

    [CephS3Fact]
    public async Task First_replication_copies_every_stream_and_manifest_bit_exact_with_a_compliance_lock_and_prints_one_line()
    {
        var chain = Chain();
        var bucket = await s3.CreateBucketAsync(objectLock: true);

        var result = await ReplicateAsync(Config(bucket));

        Assert.True(result.ExitCode == 0, result.StandardErrorTail);
        var lines = (result.StandardOutput + result.StandardErrorTail).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("replicate OK: 1 set(s), uploaded 3 stream(s)", lines[0], StringComparison.Ordinal);
        Assert.Contains("locked (COMPLIANCE, 2 days)", lines[0], StringComparison.Ordinal);
        for (var i = 0; i < chain.Count; i++)
        {
            Assert.Equal(chain[i].Payload, await GetAsync(bucket, Key(chain[i].Name, full: i == 0)));
            var manifest = await GetAsync(bucket, $"offsite/test/{Set}/{chain[i].Name}.manifest");
            Assert.Equal(File.ReadAllBytes(Path.Combine(_h.SetDirPath(Set), chain[i].Name + ".manifest")), manifest);
        }

        Assert.Equal("600", ReceiverHarness.Stat(Path.Combine(_h.SetDirPath(Set), OffsiteRecord.FileName)).Split(' ')[1]);
        Assert.Equal(3, RecordText.Split('\n').Count(l => l.StartsWith("done\t", StringComparison.Ordinal)));
    }

    [CephS3Fact]
    public async Task A_rerun_uploads_nothing_and_writes_no_new_version()
    {
        Chain(bigBytes: 9 << 20);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var config = Config(bucket);
        Assert.Equal(0, (await ReplicateAsync(config)).ExitCode);
        var versions = (await VersionsAsync(bucket)).Select(v => v.VersionId).Order().ToList();

        var again = await ReplicateAsync(config);

        Assert.True(again.ExitCode == 0, again.StandardErrorTail);
        Assert.Contains("uploaded 0 stream(s) (0 bytes), 3 already offsite", again.StandardErrorTail, StringComparison.Ordinal);
        Assert.Equal(versions, (await VersionsAsync(bucket)).Select(v => v.VersionId).Order().ToList());
    }

    [CephS3Fact]
    public async Task A_replicate_killed_mid_upload_marks_nothing_done_and_a_rerun_converges_and_aborts_the_unfinished_upload()
    {
        var chain = Chain(bigBytes: 160 << 20);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var config = Config(bucket);
        var start = new ProcessStartInfo(ProgramBinaries.Receiver) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "replicate", "--config", config })
        {
            start.ArgumentList.Add(a);
        }

        using (var process = Process.Start(start)!)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var uploads = (await s3.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket })).MultipartUploads ?? [];
                if (uploads.Count > 0)
                {
                    var parts = await s3.Client.ListPartsAsync(new ListPartsRequest { BucketName = bucket, Key = uploads[0].Key, UploadId = uploads[0].UploadId });
                    if ((parts.Parts?.Count ?? 0) >= 1)
                    {
                        break;
                    }
                }

                Assert.False(process.HasExited, "replicate finished before it could be killed mid-upload");
                Assert.True(DateTime.UtcNow < deadline, "no multipart upload seen within 60 s");
                await Task.Delay(50);
            }

            process.Kill();
            await process.WaitForExitAsync();
        }

        Assert.DoesNotContain(chain[1].Name, RecordText, StringComparison.Ordinal);
        Assert.DoesNotContain(chain[2].Name, RecordText, StringComparison.Ordinal);

        var rerun = await ReplicateAsync(config);

        Assert.True(rerun.ExitCode == 0, rerun.StandardErrorTail);
        Assert.Empty((await s3.Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket })).MultipartUploads ?? []);
        Assert.Equal(chain[1].Payload, await GetAsync(bucket, Key(chain[1].Name)));
        Assert.Equal(chain[2].Payload, await GetAsync(bucket, Key(chain[2].Name)));
        Assert.Equal(3, RecordText.Split('\n').Count(l => l.StartsWith("done\t", StringComparison.Ordinal)));
    }

    [CephS3Fact]
    public async Task The_server_refuses_deleting_a_replicated_locked_version_even_with_governance_bypass()
    {
        var chain = Chain(bigBytes: 2000);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        Assert.Equal(0, (await ReplicateAsync(Config(bucket))).ExitCode);
        var version = (await VersionsAsync(bucket)).First(v => v.Key == Key(chain[0].Name, full: true));

        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.Client.DeleteObjectAsync(new DeleteObjectRequest
        {
            BucketName = bucket,
            Key = version.Key,
            VersionId = version.VersionId,
            BypassGovernanceRetention = true,
        }));

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(chain[0].Payload, await GetAsync(bucket, version.Key));
    }

    /// <summary>
    /// Ceph 16 ignores the Object Lock headers of CreateMultipartUpload: a stream bigger than one
    /// part would be an unlocked object unless replicate sets the retention on the completed
    /// version (PutObjectRetention) and reads it back, as it does.
    /// </summary>
    [CephS3Fact]
    public async Task A_stream_uploaded_in_parts_is_locked_until_received_at_plus_S3_LOCK_DAYS_and_the_server_refuses_deleting_it()
    {
        var chain = Chain(bigBytes: 9 << 20);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        Assert.Equal(0, (await ReplicateAsync(Config(bucket))).ExitCode);
        var version = (await VersionsAsync(bucket)).Single(v => v.Key == Key(chain[1].Name));

        var retention = await s3.Client.GetObjectRetentionAsync(new GetObjectRetentionRequest { BucketName = bucket, Key = version.Key, VersionId = version.VersionId });
        var refused = await Assert.ThrowsAsync<AmazonS3Exception>(() => s3.Client.DeleteObjectAsync(new DeleteObjectRequest
        {
            BucketName = bucket,
            Key = version.Key,
            VersionId = version.VersionId,
            BypassGovernanceRetention = true,
        }));

        Assert.EndsWith("-2\"", version.ETag, StringComparison.Ordinal);
        Assert.Equal(ObjectLockRetentionMode.Compliance, retention.Retention.Mode);
        var expected = _now.AddHours(-2).AddDays(2);
        Assert.InRange(retention.Retention.RetainUntilDate!.Value.ToUniversalTime(), expected.AddSeconds(-2), expected.AddSeconds(1));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(chain[1].Payload, await GetAsync(bucket, version.Key));
    }

    [CephS3Fact]
    public async Task A_bucket_without_Object_Lock_takes_unlocked_copies_and_the_summary_says_so()
    {
        var chain = Chain(bigBytes: 2000);
        var bucket = await s3.CreateBucketAsync(objectLock: false);

        var result = await ReplicateAsync(Config(bucket));

        Assert.True(result.ExitCode == 0, result.StandardErrorTail);
        Assert.Contains("UNLOCKED", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.Equal(chain[2].Payload, await GetAsync(bucket, Key(chain[2].Name)));
        Assert.Contains("\tunlocked\t", RecordText, StringComparison.Ordinal);
    }

    [CephS3Fact]
    public async Task Wrong_credentials_fail_with_one_clear_line_exit_3_and_mark_nothing_done()
    {
        Chain(bigBytes: 2000);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var wrong = Path.Combine(_h.DirPath, "wrong-credentials");
        CephS3Fixture.WriteCredentials(wrong, s3.Server.AccessKey, "not-the-secret-0000000000000000000000000");

        var result = await ReplicateAsync(Config(bucket, credentials: wrong));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains($"read the bucket's Object Lock configuration: {s3.Server.Endpoint.GetLeftPart(UriPartial.Authority)} refused the credentials in {wrong} (", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.DoesNotContain("done\t", RecordText, StringComparison.Ordinal);
        Assert.Empty(await VersionsAsync(bucket));
    }

    [CephS3Fact]
    public async Task An_unreachable_endpoint_fails_with_one_clear_line_exit_6_and_marks_nothing_done()
    {
        Chain(bigBytes: 2000);

        var result = await ReplicateAsync(Config("no-such-bucket", endpoint: "http://127.0.0.1:9"));

        Assert.Equal(6, result.ExitCode);
        Assert.Contains("cannot reach http://127.0.0.1:9: ", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.DoesNotContain("done\t", RecordText, StringComparison.Ordinal);
    }

    /// <summary>The same three faults give the same one line and exit code in every verb that talks to the bucket (the one mapper, ObjectStoreErrors).</summary>
    [CephS3Fact]
    public async Task Wrong_credentials_an_unreachable_endpoint_and_a_missing_bucket_are_one_line_each_with_their_exit_code_in_replicate_and_offsite_prune()
    {
        Chain(bigBytes: 2000);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var wrong = Path.Combine(_h.DirPath, "wrong-credentials");
        CephS3Fixture.WriteCredentials(wrong, "BTRFSSENDNOSUCHKEY01", "not-the-secret-0000000000000000000000000");
        var server = s3.Server.Endpoint.GetLeftPart(UriPartial.Authority);
        // Config() rewrites one file: keep each case's text.
        var cases = new (string ConfigText, int Exit, string Line)[]
        {
            (File.ReadAllText(Config(bucket, credentials: wrong)), 3, $"{server} refused the credentials in {wrong} (InvalidAccessKeyId"),
            (File.ReadAllText(Config(bucket, endpoint: "http://127.0.0.1:9")), 6, "cannot reach http://127.0.0.1:9: "),
            (File.ReadAllText(Config("no-such-bucket-" + Guid.NewGuid().ToString("N")[..8])), 5, $"does not exist at {server} (NoSuchBucket"),
        };
        foreach (var (configText, exit, line) in cases)
        {
            var config = Path.Combine(_h.DirPath, "fault.conf");
            File.WriteAllText(config, configText + "KEEP_DAILY=1\n");
            foreach (var verb in new[] { new[] { "replicate" }, ["prune", "--offsite", "--all"] })
            {
                var result = await new ToolRunner(new Dictionary<string, string?> { ["BTRFS_SEND_LOG_LEVEL"] = null })
                    .TryRunAsync([ProgramBinaries.Receiver, .. verb, "--config", config]);

                Assert.True(result.ExitCode == exit, $"{string.Join(' ', verb)}: exit {result.ExitCode}, expected {exit}: {result.StandardErrorTail}");
                Assert.Contains(line, result.StandardErrorTail, StringComparison.Ordinal);
                Assert.DoesNotContain("   at ", result.StandardErrorTail, StringComparison.Ordinal);
            }
        }

        Assert.DoesNotContain("done\t", RecordText, StringComparison.Ordinal);
        Assert.Empty(await VersionsAsync(bucket));
    }

    [CephS3Fact]
    public async Task A_damaged_local_stream_is_not_copied_nor_marked_done_and_its_children_wait()
    {
        var chain = Chain(bigBytes: 2000);
        var path = Path.Combine(_h.SetDirPath(Set), chain[1].Name + ".incr.btrfs.gpg");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var damaged = File.ReadAllBytes(path);
        damaged[10] ^= 1;
        File.WriteAllBytes(path, damaged);
        var bucket = await s3.CreateBucketAsync(objectLock: true);

        var result = await ReplicateAsync(Config(bucket));

        Assert.Equal(8, result.ExitCode);
        Assert.Contains("differs from its manifest", result.StandardErrorTail, StringComparison.Ordinal);
        Assert.Contains($"its parent {chain[1].Name} is not offsite yet", result.StandardErrorTail, StringComparison.Ordinal);
        var keys = (await VersionsAsync(bucket)).Select(v => v.Key).ToList();
        Assert.Contains(Key(chain[0].Name, full: true), keys);
        Assert.DoesNotContain(Key(chain[1].Name), keys);
        Assert.DoesNotContain(Key(chain[2].Name), keys);
        Assert.Single(RecordText.Split('\n'), l => l.StartsWith("done\t", StringComparison.Ordinal));
    }

    [CephS3Fact]
    public async Task Verify_detects_an_offsite_object_that_was_replaced_and_copies_it_again()
    {
        var chain = Chain(bigBytes: 2000);
        var bucket = await s3.CreateBucketAsync(objectLock: true);
        var config = Config(bucket);
        Assert.Equal(0, (await ReplicateAsync(config)).ExitCode);
        var tampered = RandomNumberGenerator.GetBytes(chain[2].Payload.Length);
        await s3.Client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = Key(chain[2].Name), InputStream = new MemoryStream(tampered), UseChunkEncoding = false });

        var quiet = await ReplicateAsync(config);
        var verify = await ReplicateAsync(config, "--verify");

        Assert.Equal(0, quiet.ExitCode);
        Assert.Equal(8, verify.ExitCode);
        Assert.Contains($"{chain[2].Name}.incr.btrfs.gpg", verify.StandardErrorTail, StringComparison.Ordinal);
        Assert.Contains("differs from what replicate wrote", verify.StandardErrorTail, StringComparison.Ordinal);
        Assert.Equal(chain[2].Payload, await GetAsync(bucket, Key(chain[2].Name)));
    }
}

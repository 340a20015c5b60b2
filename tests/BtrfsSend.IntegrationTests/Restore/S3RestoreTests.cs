using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// restore and verify <c>--from s3://BUCKET/PREFIX</c> against a real radosgw: the shared
/// <see cref="RestoreWorld"/>'s stored sets copied to a fresh bucket by the real replicate,
/// read back with credentials that may only list and read. The bucket is hostile here as the
/// backup server is over ssh: tampered, resized and missing objects must fail their link in one
/// line and leave nothing half-received.
/// </summary>
[Collection(RestoreCollection.Name)]
public sealed class S3RestoreTests(RestoreWorldFixture fixture, CephS3Fixture ceph) : IClassFixture<CephS3Fixture>
{
    private const string Prefix = "offsite/site-a";

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task Restore_from_a_bucket_filled_by_replicate_with_read_only_credentials_receives_the_full_and_every_incremental_bit_exact()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3restore");
        await using var _ = bucket;
        using var __ = dir;
        await using var target = await BtrfsLoopFixture.CreateAsync("s3target");

        var restore = await RestoreAsync(world, bucket, bucket.ReaderCredentialsFilePath, target.MountDirPath);

        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("4 link(s) received", restore.Stdout, StringComparison.Ordinal);
        foreach (var snapshot in world.Snapshots)
        {
            await world.AssertRestoredAsync(snapshot, target.PathOf(snapshot));
        }

        // The credentials really are read-only: the server refuses them a write and a delete.
        using var reader = ReaderClient(bucket);
        var put = await Assert.ThrowsAsync<AmazonS3Exception>(() => reader.PutObjectAsync(new PutObjectRequest { BucketName = bucket.Name, Key = "x", ContentBody = "x" }));
        Assert.Equal("AccessDenied", put.ErrorCode);
        var key = OffsiteBucket.Key(Prefix, RestoreWorld.Set, world.Snapshots[0] + ".manifest");
        var delete = await Assert.ThrowsAsync<AmazonS3Exception>(() => reader.DeleteObjectAsync(bucket.Name, key));
        Assert.Equal("AccessDenied", delete.ErrorCode);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task Extract_from_the_bucket_restores_one_file_of_an_incremental_and_deletes_the_scratch()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3extract");
        await using var _ = bucket;
        using var __ = dir;
        await using var dest = await BtrfsLoopFixture.CreateAsync("s3xdest");

        var extract = await world.ProducerAsync("extract", "--set", RestoreWorld.Set, "--from", bucket.Url(Prefix), "--s3-endpoint", bucket.Endpoint,
            "--s3-credentials-file", bucket.ReaderCredentialsFilePath, "--passphrase-file", world.Gpg.PassphraseFilePath,
            "--snapshot", world.Snapshots[1], "etc/hostname", "--to", dest.PathOf("hostname"));

        Assert.True(extract.ExitCode == 0, extract.Stderr);
        Assert.Equal("changed once\n", await File.ReadAllTextAsync(dest.PathOf("hostname")));
        Assert.Equal(await Run.OutAsync("stat", "-c", "%a %u:%g %.9Y", Path.Combine(world.SourceSnapshotPath(world.Snapshots[1]), "etc/hostname")),
            await Run.OutAsync("stat", "-c", "%a %u:%g %.9Y", dest.PathOf("hostname")));
        Assert.Empty(await dest.ListSubvolumesAsync());
        Assert.Equal(["hostname"], Directory.GetFileSystemEntries(dest.MountDirPath).Select(Path.GetFileName));
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task Verify_from_the_bucket_reports_every_stream_OK_and_a_tampered_object_FAIL()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3verify");
        await using var _ = bucket;
        using var __ = dir;
        var key = IncrementalKey(world, 2);

        var clean = await VerifyAsync(world, bucket, "--all");
        await ChangeAsync(bucket, key, Flipped);
        var tampered = await VerifyAsync(world, bucket, "--all");

        Assert.True(clean.ExitCode == 0, clean.Stdout + clean.Stderr);
        var lines = clean.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        Assert.All(lines.Zip(world.Snapshots), p => Assert.StartsWith($"OK    {p.Second}", p.First, StringComparison.Ordinal));
        Assert.Equal(8, tampered.ExitCode);
        var failed = Assert.Single(tampered.Stdout.Split('\n'), l => l.StartsWith("FAIL", StringComparison.Ordinal));
        Assert.StartsWith($"FAIL  {world.Snapshots[2]}", failed, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task A_tampered_stream_object_of_the_same_size_fails_its_link_and_leaves_nothing_of_it_in_the_target()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3tamper");
        await using var _ = bucket;
        using var __ = dir;
        await ChangeAsync(bucket, IncrementalKey(world, 2), Flipped);
        await using var target = await BtrfsLoopFixture.CreateAsync("s3target");

        var restore = await RestoreAsync(world, bucket, bucket.ReaderCredentialsFilePath, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 3/4 {world.Snapshots[2]} (incremental) failed", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0], world.Snapshots[1]], await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task A_stream_object_whose_size_differs_from_its_manifest_is_refused_before_any_of_it_is_received()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3size");
        await using var _ = bucket;
        using var __ = dir;
        var key = IncrementalKey(world, 1);
        var original = await ChangeAsync(bucket, key, content => content[..^1]);
        await using var target = await BtrfsLoopFixture.CreateAsync("s3target");

        var restore = await RestoreAsync(world, bucket, bucket.ReaderCredentialsFilePath, target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"link 2/4 {world.Snapshots[1]} (incremental): s3://{bucket.Name}/{key} is {original.Length - 1} bytes in the bucket, but its manifest records {original.Length}", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing of it was received", restore.Stderr, StringComparison.Ordinal);
        Assert.Equal([world.Snapshots[0]], await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task A_missing_or_damaged_manifest_breaks_the_chain_naming_the_missing_link_before_anything_is_received()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3manifest");
        await using var _ = bucket;
        using var __ = dir;
        await bucket.DeleteAsync(OffsiteBucket.Key(Prefix, RestoreWorld.Set, world.Snapshots[1] + ".manifest"));
        var damaged = OffsiteBucket.Key(Prefix, RestoreWorld.Set, world.Snapshots[2] + ".manifest");
        await ChangeAsync(bucket, damaged, content => [.. content, .. "stream_bytes=1\n"u8.ToArray()]);
        await using var target = await BtrfsLoopFixture.CreateAsync("s3target");

        var restore = await RestoreAsync(world, bucket, bucket.ReaderCredentialsFilePath, target.MountDirPath, "--snapshot", world.Snapshots[3]);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"{world.Snapshots[1]}.incr.btrfs.gpg: stream object without a manifest; it is not used", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains($"s3://{bucket.Name}/{damaged}:", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains($"(missing link: {world.Snapshots[2]})", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task Wrong_credentials_are_a_configuration_error_in_one_line()
    {
        var (world, dir, bucket) = await ArrangeAsync("s3creds");
        await using var _ = bucket;
        using var __ = dir;
        var wrong = OffsiteBucket.WriteCredentials(dir.Sub("wrong.credentials"), "BTRFSSENDNOSUCHKEY01", "not-the-secret-000000000000000000000000");

        var restore = await RestoreAsync(world, bucket, wrong, dir.Sub("nowhere"));
        var verify = await world.ProducerAsync("verify", "--set", RestoreWorld.Set, "--from", bucket.Url(Prefix), "--s3-endpoint", bucket.Endpoint,
            "--s3-credentials-file", wrong, "--passphrase-file", world.Gpg.PassphraseFilePath);

        foreach (var result in new[] { restore, verify })
        {
            Assert.Equal(3, result.ExitCode);
            Assert.Contains($"listing s3://{bucket.Name}/{Prefix}/{RestoreWorld.Set}/: {bucket.Endpoint} refused the credentials in {wrong} (InvalidAccessKeyId", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        }
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task An_unreachable_endpoint_is_a_failed_transfer_in_one_line()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("s3down");
        var credentials = OffsiteBucket.WriteCredentials(dir.Sub("c"), "BTRFSSENDNOSUCHKEY01", "not-the-secret-000000000000000000000000");

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.Set, "--from", "s3://offsite/" + Prefix, "--s3-endpoint", "http://127.0.0.1:9",
            "--s3-credentials-file", credentials, "--passphrase-file", world.Gpg.PassphraseFilePath, "--to", dir.Sub("nowhere"));

        Assert.Equal(6, restore.ExitCode);
        Assert.Contains($"listing s3://offsite/{Prefix}/{RestoreWorld.Set}/: cannot reach http://127.0.0.1:9: ", restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", restore.Stderr, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task A_missing_bucket_is_refused_in_one_line()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("s3nobucket");
        var missing = "no-such-bucket-" + Guid.NewGuid().ToString("N")[..8];

        var restore = await world.ProducerAsync("restore", "--set", RestoreWorld.Set, "--from", $"s3://{missing}/{Prefix}", "--s3-endpoint", ceph.Server.Endpoint.GetLeftPart(UriPartial.Authority),
            "--s3-credentials-file", ceph.CredentialsFilePath, "--passphrase-file", world.Gpg.PassphraseFilePath, "--to", dir.Sub("nowhere"));

        Assert.Equal(5, restore.ExitCode);
        Assert.Contains($"listing s3://{missing}/{Prefix}/{RestoreWorld.Set}/: bucket '{missing}' does not exist at {ceph.Server.Endpoint.GetLeftPart(UriPartial.Authority)} (NoSuchBucket", restore.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", restore.Stderr, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task Restore_latest_from_a_bucket_behind_the_ledger_is_refused_as_a_rollback()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("s3ledger");
        await using var bucket = await OffsiteBucket.CreateAsync(ceph, dir);
        await bucket.ReplicateSetAsync(world.SetDirPath, RestoreWorld.Set, Prefix, world.Snapshots.Take(3));
        await using var target = await BtrfsLoopFixture.CreateAsync("s3target");

        var restore = await world.ProducerAsync("restore", "--config", world.ConfigFilePath, "--from", bucket.Url(Prefix), "--s3-endpoint", bucket.Endpoint,
            "--s3-credentials-file", bucket.ReaderCredentialsFilePath, "--to", target.MountDirPath);

        Assert.Equal(8, restore.ExitCode);
        Assert.Contains($"the newest stored snapshot of {RestoreWorld.Set} at s3://{bucket.Name}/{Prefix}/{RestoreWorld.Set}/", restore.Stderr, StringComparison.Ordinal);
        Assert.Contains($"older than the newest acknowledged upload {world.Snapshots[3]}", restore.Stderr, StringComparison.Ordinal);
        Assert.Empty(await target.ListSubvolumesAsync());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw", "radosgw-admin")]
    public async Task The_restore_drill_from_the_bucket_restores_a_zstd_chain_and_finds_its_canary()
    {
        var world = await fixture.WorldAsync();
        using var dir = new TempDir("s3drill");
        await using var bucket = await OffsiteBucket.CreateAsync(ceph, dir);
        await bucket.ReplicateSetAsync(world.ZstdSetDirPath, RestoreWorld.ZstdSet, "");
        await using var scratch = await BtrfsLoopFixture.CreateAsync("s3scratch");

        var drill = await world.ProducerAsync("verify", "--restore-test", "--set", RestoreWorld.ZstdSet, "--from", $"s3://{bucket.Name}", "--s3-endpoint", bucket.Endpoint,
            "--s3-credentials-file", bucket.ReaderCredentialsFilePath, "--passphrase-file", world.Gpg.PassphraseFilePath,
            "--scratch", scratch.MountDirPath, "--canary-file", RestoreWorld.CanaryFile);

        Assert.True(drill.ExitCode == 0, drill.Stdout + drill.Stderr);
        Assert.StartsWith($"OK: restore test of {RestoreWorld.ZstdSet}/{world.ZstdSnapshots[1]}", drill.Stdout, StringComparison.Ordinal);
        Assert.Empty(await scratch.ListSubvolumesAsync());
    }

    /// <summary>The object key of the stream of <c>world.Snapshots[link]</c>, an incremental.</summary>
    private static string IncrementalKey(RestoreWorld world, int link) => OffsiteBucket.Key(Prefix, RestoreWorld.Set, world.Snapshots[link] + ".incr.btrfs.gpg");

    /// <summary>Replaces the object at <paramref name="key"/> with <paramref name="change"/> of its content, as a hostile bucket owner could; returns the original content.</summary>
    private static async Task<byte[]> ChangeAsync(OffsiteBucket bucket, string key, Func<byte[], byte[]> change)
    {
        var original = await bucket.GetAsync(key);
        await bucket.PutAsync(key, change(original));
        return original;
    }

    private static byte[] Flipped(byte[] content)
    {
        var copy = content.ToArray();
        copy[copy.Length / 2] ^= 0x40;
        return copy;
    }

    private async Task<(RestoreWorld World, TempDir Dir, OffsiteBucket Bucket)> ArrangeAsync(string label)
    {
        var world = await fixture.WorldAsync();
        var dir = new TempDir(label);
        var bucket = await OffsiteBucket.CreateAsync(ceph, dir);
        await bucket.ReplicateSetAsync(world.SetDirPath, RestoreWorld.Set, Prefix);
        return (world, dir, bucket);
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RestoreAsync(RestoreWorld world, OffsiteBucket bucket, string credentials, string to, params string[] args)
        => world.ProducerAsync(["restore", "--set", RestoreWorld.Set, "--from", bucket.Url(Prefix), "--s3-endpoint", bucket.Endpoint,
            "--s3-credentials-file", credentials, "--passphrase-file", world.Gpg.PassphraseFilePath, "--to", to, .. args]);

    private static Task<(int ExitCode, string Stdout, string Stderr)> VerifyAsync(RestoreWorld world, OffsiteBucket bucket, params string[] args)
        => world.ProducerAsync(["verify", "--set", RestoreWorld.Set, "--from", bucket.Url(Prefix), "--s3-endpoint", bucket.Endpoint,
            "--s3-credentials-file", bucket.ReaderCredentialsFilePath, "--passphrase-file", world.Gpg.PassphraseFilePath, .. args]);

    private static AmazonS3Client ReaderClient(OffsiteBucket bucket)
        => ObjectStoreClient.Create(new ObjectStoreOptions { Endpoint = new Uri(bucket.Endpoint), Bucket = bucket.Name, CredentialsFilePath = bucket.ReaderCredentialsFilePath });
}

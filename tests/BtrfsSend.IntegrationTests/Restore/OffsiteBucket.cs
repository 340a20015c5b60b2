using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// A fresh bucket on the real radosgw for one test, filled by the real
/// <c>btrfs-backup-receive replicate</c> from a copy of a set's stored files, plus a second user
/// that may only list and read it (a bucket policy: the read-only credentials a restore machine
/// is given). Deleted with everything in it on dispose.
/// </summary>
internal sealed class OffsiteBucket : IAsyncDisposable
{
    private const string ReaderUid = "btrfs-send-restore-reader";
    private const string ReaderAccess = "BTRFSSENDREADERACC01";
    private const string ReaderSecret = "btrfssendreadersecret0000000000000000001";
    private readonly TempDir _dir;
    private readonly string _ownerCredentialsFilePath;

    private OffsiteBucket(string endpoint, string bucket, AmazonS3Client owner, string ownerCredentialsFilePath, string readerCredentialsFilePath, TempDir dir)
    {
        _dir = dir;
        _ownerCredentialsFilePath = ownerCredentialsFilePath;
        Endpoint = endpoint;
        Name = bucket;
        Owner = owner;
        ReaderCredentialsFilePath = readerCredentialsFilePath;
    }

    public string Endpoint { get; }

    public string Name { get; }

    /// <summary>The server's admin client (full rights; the fixture owns it): what replicate on the backup server holds.</summary>
    public AmazonS3Client Owner { get; }

    /// <summary>Credentials (0600) that may only list the bucket and read its objects.</summary>
    public string ReaderCredentialsFilePath { get; }

    public string Url(string prefix) => prefix.Length == 0 ? $"s3://{Name}" : $"s3://{Name}/{prefix}";

    /// <summary>A new bucket without Object Lock, and the read-only user allowed into it by a bucket policy.</summary>
    public static async Task<OffsiteBucket> CreateAsync(CephS3Fixture ceph, TempDir dir)
    {
        var bucket = await ceph.CreateBucketAsync(objectLock: false);
        await EnsureReaderAsync();
        await ceph.Client.PutBucketPolicyAsync(new PutBucketPolicyRequest
        {
            BucketName = bucket,
            Policy = $$"""
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/{{ReaderUid}}"]},
                 "Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::{{bucket}}","arn:aws:s3:::{{bucket}}/*"]}]}
                """,
        });
        return new OffsiteBucket(ceph.Server.Endpoint.GetLeftPart(UriPartial.Authority), bucket, ceph.Client, ceph.CredentialsFilePath,
            WriteCredentials(dir.Sub("reader.credentials"), ReaderAccess, ReaderSecret), dir);
    }

    /// <summary>Credentials in the AWS shared-credentials format, mode 0600.</summary>
    public static string WriteCredentials(string path, string accessKey, string secretKey)
    {
        CephS3Fixture.WriteCredentials(path, accessKey, secretKey);
        return path;
    }

    /// <summary>
    /// Fills the bucket as the backup server does: the stored files of <paramref name="setDirPath"/>
    /// (optionally only some snapshots) are copied, as the receiver stored them, into a
    /// BACKUP_ROOT of their own (the shared world's store is left alone), and
    /// <c>btrfs-backup-receive replicate</c> copies them to PREFIX/SET/ with the owner's credentials.
    /// </summary>
    public async Task ReplicateSetAsync(string setDirPath, string set, string prefix, IEnumerable<string>? onlySnapshots = null)
    {
        var only = onlySnapshots?.ToHashSet(StringComparer.Ordinal);
        var root = _dir.Sub("replicated-" + Guid.NewGuid().ToString("N")[..8]);
        var copy = Path.Combine(root, set);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(setDirPath))
        {
            if (StoredFileName.TryParse(Path.GetFileName(file)) is { } name && (only is null || only.Contains(name.Snapshot.Value)))
            {
                var target = Path.Combine(copy, name.Value);
                File.Copy(file, target);
                File.SetUnixFileMode(target, UnixFileMode.UserRead);
            }
        }

        var config = Path.Combine(root, "receiver.conf");
        await File.WriteAllTextAsync(config, $"BACKUP_ROOT={root}\nMIN_FREE_SPACE=0\nS3_ENDPOINT={Endpoint}\nS3_BUCKET={Name}\nS3_PREFIX={prefix}\nS3_CREDENTIALS_FILE={_ownerCredentialsFilePath}\n");
        var replicate = await Run.TryAsync(ProgramBinaries.Receiver, "replicate", "--config", config);
        Assert.True(replicate.ExitCode == 0, $"replicate failed: {replicate.StandardErrorTail}");
        Assert.Contains($"replicate OK: 1 set(s), uploaded {Directory.GetFiles(copy, "*.manifest").Length} stream(s)", replicate.StandardErrorTail, StringComparison.Ordinal);
    }

    public static string Key(string prefix, string set, string fileName) => (prefix.Length == 0 ? "" : prefix + "/") + set + "/" + fileName;

    public Task PutAsync(string key, byte[] content)
        => Owner.PutObjectAsync(new PutObjectRequest { BucketName = Name, Key = key, InputStream = new MemoryStream(content) });

    public async Task<byte[]> GetAsync(string key)
    {
        using var response = await Owner.GetObjectAsync(Name, key);
        var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public Task DeleteAsync(string key) => Owner.DeleteObjectAsync(Name, key);

    public async ValueTask DisposeAsync()
    {
        try
        {
            string? token = null;
            do
            {
                var page = await Owner.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Name, ContinuationToken = token });
                foreach (var o in page.S3Objects ?? [])
                {
                    await Owner.DeleteObjectAsync(Name, o.Key);
                }

                token = page.IsTruncated == true ? page.NextContinuationToken : null;
            }
            while (token is not null);

            await Owner.DeleteBucketAsync(Name);
        }
        catch (AmazonServiceException)
        {
            // Best effort: the server may already be stopping; a leftover bucket goes with it.
        }
    }

    /// <summary>
    /// The read-only user, created once per server with radosgw-admin (the server's admin keyring,
    /// in its directory: CEPH_S3_DIR of scripts/lib/s3-ceph.sh, default /var/tmp/btrfs-send-ceph-s3).
    /// </summary>
    private static async Task EnsureReaderAsync()
    {
        var conf = Path.Combine(Environment.GetEnvironmentVariable("CEPH_S3_DIR") is { Length: > 0 } dir ? dir : "/var/tmp/btrfs-send-ceph-s3", "ceph.conf");
        var info = await Run.TryAsync("radosgw-admin", "--conf", conf, "user", "info", "--uid", ReaderUid);
        if (info.ExitCode != 0)
        {
            await Run.OutAsync("radosgw-admin", "--conf", conf, "user", "create", "--uid", ReaderUid, "--display-name", "btrfs-send restore (read-only)",
                "--access-key", ReaderAccess, "--secret-key", ReaderSecret);
        }
    }
}

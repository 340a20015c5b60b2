using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.ObjectStore;

namespace BtrfsSend.TestSupport;

/// <summary>
/// A class fixture over the host's shared real S3 server (<see cref="CephS3Server"/>): an admin
/// client, a credentials file (0600) for the programs under test, and a fresh bucket per test.
/// Tests using it are marked <see cref="CephS3FactAttribute"/>; in CI a server that cannot start
/// fails them, on a laptop without Ceph they are skipped.
/// </summary>
public sealed class CephS3Fixture : IDisposable
{
    private readonly TempDir _dir = new("s3");
    private readonly Lazy<AmazonS3Client> _client;

    public CephS3Fixture()
    {
        _client = new Lazy<AmazonS3Client>(() => ObjectStoreClient.Create(Options("placeholder-bucket"), new SharedCredentials(Server.AccessKey, Server.SecretKey, null)));
    }

    /// <summary>The shared server; starts or joins it on first use.</summary>
    public CephS3Server Server => CephS3Server.Shared;

    /// <summary>A client with the server's full rights (for set-up and for checking what the programs did).</summary>
    public AmazonS3Client Client => _client.Value;

    /// <summary>A credentials file with the server's keys, mode 0600.</summary>
    public string CredentialsFilePath
    {
        get
        {
            var path = _dir.Sub("credentials");
            if (!File.Exists(path))
            {
                WriteCredentials(path, Server.AccessKey, Server.SecretKey);
            }

            return path;
        }
    }

    /// <summary>Writes an AWS shared-credentials file with mode 0600.</summary>
    public static void WriteCredentials(string path, string accessKey, string secretKey)
    {
        File.WriteAllText(path, $"[default]\naws_access_key_id = {accessKey}\naws_secret_access_key = {secretKey}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Settings for <paramref name="bucket"/> on this server.</summary>
    public ObjectStoreOptions Options(string bucket, string prefix = "", ObjectLockSetting lockMode = ObjectLockSetting.Compliance, int lockDays = 1) => new()
    {
        Endpoint = Server.Endpoint,
        Bucket = bucket,
        Prefix = prefix,
        CredentialsFilePath = CredentialsFilePath,
        LockMode = lockMode,
        LockDays = lockDays,
    };

    /// <summary>The S3_* lines of a receiver config for <paramref name="bucket"/>.</summary>
    public string ConfigLines(string bucket, string prefix = "", string lockMode = "compliance", int lockDays = 1)
        => $"S3_ENDPOINT={Server.Endpoint}\nS3_BUCKET={bucket}\nS3_PREFIX={prefix}\nS3_CREDENTIALS_FILE={CredentialsFilePath}\nS3_LOCK_MODE={lockMode}\nS3_LOCK_DAYS={lockDays}\n";

    /// <summary>Creates a new, uniquely named bucket (with Object Lock, hence versioning, when asked).</summary>
    public async Task<string> CreateBucketAsync(bool objectLock)
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..20];
        await Client.PutBucketAsync(new PutBucketRequest { BucketName = name, ObjectLockEnabledForBucket = objectLock });
        return name;
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }

        _dir.Dispose();
    }
}

using Amazon.S3;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Offsite;
using Serilog;

namespace BtrfsSend.Receiver.Commands.Shared;

/// <summary>
/// The prologue and epilogue every verb that talks to the bucket shares (<c>replicate</c>,
/// <c>prune --offsite</c>): the S3_* settings required, LOG_FILE added, one offsite run per
/// BACKUP_ROOT at a time (its lock file), the client built from S3_CREDENTIALS_FILE, and every
/// object-store failure turned into one line and its exit code (<see cref="ObjectStoreErrors"/>).
/// </summary>
internal static class OffsiteRun
{
    /// <summary>The lock one offsite run (replicate or prune --offsite) holds in BACKUP_ROOT.</summary>
    public const string LockFileName = ".replicate.lock";

    public static async Task<int> RunAsync(ReceiverOptions options, string verb, ILogger log, Func<ObjectStoreOptions, IAmazonS3, ILogger, Task<int>> body)
    {
        var s3 = options.ObjectStore ?? throw new ConfigException($"{verb} needs the offsite copy configured: S3_BUCKET and S3_CREDENTIALS_FILE (see docs/offsite.md)");
        var runLog = ReceiverConfig.WithLogFile(log, options);
        try
        {
            Directory.CreateDirectory(options.BackupRootDirPath);
            using var runLock = DirectoryLock.Acquire(Path.Combine(options.BackupRootDirPath, LockFileName), $"the offsite copy of {options.BackupRootDirPath} ({verb})");
            using var client = ObjectStoreClient.Create(s3);
            try
            {
                return await body(s3, client, runLog);
            }
            catch (Exception e) when (ObjectStoreErrors.IsObjectStoreFailure(e))
            {
                throw ObjectStoreErrors.Describe(e, s3, verb);
            }
        }
        finally
        {
            ReceiverConfig.Close(runLog, log);
        }
    }
}

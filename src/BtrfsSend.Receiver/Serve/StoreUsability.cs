using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// Whether BACKUP_ROOT can take (or at least show) backups, asked by <c>hello</c> and <c>list</c> so
/// that a producer refuses before it stops a service. A missing BACKUP_ROOT usually means the
/// backup disk is not mounted; it is never created.
/// </summary>
internal static class StoreUsability
{
    /// <summary>Why BACKUP_ROOT cannot be listed (missing, not a directory), or null.</summary>
    public static string? ProblemForReading(ReceiverOptions options)
    {
        var root = Path.GetFullPath(options.BackupRootDirPath);
        if (Directory.Exists(root))
        {
            return null;
        }

        return File.Exists(root)
            ? $"BACKUP_ROOT {root} is not a directory; nothing can be stored or listed"
            : $"BACKUP_ROOT {root} does not exist (is the backup disk mounted?); nothing can be stored or listed";
    }

    /// <summary>Why BACKUP_ROOT cannot take an upload (unreadable, read-only, below MIN_FREE_SPACE), or null.</summary>
    public static string? ProblemForUploads(ReceiverOptions options)
    {
        if (ProblemForReading(options) is { } problem)
        {
            return problem;
        }

        var root = Path.GetFullPath(options.BackupRootDirPath);
        try
        {
            if (FreeSpace.IsReadOnly(root))
            {
                return $"BACKUP_ROOT {root} is on a read-only filesystem (remounted read-only after an error?); nothing can be stored";
            }

            var free = FreeSpace.AvailableBytes(root);
            return free < options.MinFreeSpace
                ? $"only {free} bytes free under BACKUP_ROOT {root}, below MIN_FREE_SPACE={options.MinFreeSpace}; nothing can be stored until space is freed (prune) or the disk grows"
                : null;
        }
        catch (StorageException ex)
        {
            return $"BACKUP_ROOT {root} cannot be examined: {ex.Message}";
        }
    }
}

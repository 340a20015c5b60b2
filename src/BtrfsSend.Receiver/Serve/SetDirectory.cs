using BtrfsSend.Core.Naming;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// A set's directory under a root the receiver owns (BACKUP_ROOT, or RECEIVED_ROOT in remote-btrfs
/// mode), walked one segment at a time: a component that is a symbolic link is never followed
/// (set discovery skips such sets for the same reason), and every directory the receiver creates
/// on the way is 0750 root, intermediate ones included — the ingest user can list none of them.
/// </summary>
internal static class SetDirectory
{
    /// <summary>rwxr-x---: root reads and writes, the backup group may look, nobody else.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    /// <summary>Refuses (before anything is written) when a component of the set's path under <paramref name="rootDirPath"/> is a symbolic link.</summary>
    public static void RequireNoSymlink(string rootDirPath, BackupSet set)
    {
        var path = rootDirPath;
        foreach (var segment in set.Segments)
        {
            path = Path.Combine(path, segment);
            if (new FileInfo(path).LinkTarget is not null)
            {
                throw new ServeRefusal(Core.Protocol.ErrorCodes.Forbidden,
                    $"backup set '{set}' is not usable on this receiver: a component of its directory is a symbolic link, which the receiver never follows; its admin must fix the store");
            }
        }
    }

    /// <summary>Creates the set's directory and any missing parent below <paramref name="rootDirPath"/>, each 0750, never through a symbolic link.</summary>
    public static string Create(string rootDirPath, BackupSet set)
    {
        RequireNoSymlink(rootDirPath, set);
        var path = rootDirPath;
        foreach (var segment in set.Segments)
        {
            path = Path.Combine(path, segment);
            if (!Directory.Exists(path))
            {
                // One level at a time (the parent exists), then chmod: a umask never widens or narrows it.
                Directory.CreateDirectory(path, Mode);
                File.SetUnixFileMode(path, Mode);
            }
        }

        return path;
    }
}

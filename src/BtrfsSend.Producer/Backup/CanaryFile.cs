using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// CANARY_FILE: before each snapshot (and before services are stopped, so the stop window does
/// not grow) the producer writes the snapshot's name and a fresh random token into a file inside
/// the source subvolume; the token travels to the receiver as the <c>canary=</c> declaration and
/// lands in the manifest as <c>canary_token</c>. <c>verify --restore-test</c> restores the
/// snapshot and compares. Written atomically (temp, fsync, rename, dir fsync), mode 0600, never
/// through a symlink: the source's contents may be controlled by the services being backed up,
/// and root must not be steered into replacing a file elsewhere.
/// </summary>
internal sealed class CanaryFile(string sourceDirPath, string relativePath)
{
    public const string Header = "btrfs-send-backup canary";

    /// <summary>At most this much of a restored canary is read.</summary>
    public const int MaxBytes = 4096;

    public string FilePath { get; } = Path.Combine(sourceDirPath, relativePath);

    public string RelativePath { get; } = relativePath;

    /// <summary>32 lowercase hex digits from the system CSPRNG.</summary>
    public static string NewToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string Content(SnapshotName snapshot, string token) => $"{Header}\nsnapshot={snapshot.Value}\ntoken={token}\n";

    /// <summary>Writes the canary for <paramref name="snapshot"/> and returns its token; throws <see cref="RefusedException"/> for a symlink or directory on the way.</summary>
    public string Write(SnapshotName snapshot)
    {
        RequireNoSymlinks();
        var token = NewToken();
        try
        {
            DurableFiles.Replace(FilePath, Encoding.ASCII.GetBytes(Content(snapshot, token)), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"CANARY_FILE: cannot write {NameText.Printable(FilePath)}: {ex.Message}", ex);
        }

        return token;
    }

    /// <summary>
    /// The snapshot name and token in <paramref name="text"/> (what <see cref="Content"/> wrote),
    /// or null when it is not a canary.
    /// </summary>
    public static (string Snapshot, string Token)? TryParse(string text)
    {
        var lines = text.Split('\n');
        if (lines is not [Header, var s, var t, ""] || !s.StartsWith("snapshot=", StringComparison.Ordinal) || !t.StartsWith("token=", StringComparison.Ordinal))
        {
            return null;
        }

        return (s["snapshot=".Length..], t["token=".Length..]);
    }

    /// <summary>
    /// Reads the canary inside a restored snapshot at <paramref name="snapshotDirPath"/>: its text,
    /// or null with why not. A symlink anywhere on the way is not followed (the restored tree is
    /// whatever the source held, and a link could point anywhere on this machine).
    /// </summary>
    public static (string? Text, string? Problem) TryRead(string snapshotDirPath, string relativePath)
    {
        var dir = snapshotDirPath;
        foreach (var part in relativePath.Split('/')[..^1])
        {
            dir = Path.Combine(dir, part);
            var info = new DirectoryInfo(dir);
            if (info.LinkTarget is not null || !info.Exists)
            {
                return (null, $"{NameText.Printable(dir)} is {(info.LinkTarget is null ? "missing or not a directory" : "a symbolic link")} in the restored snapshot");
            }
        }

        var path = Path.Combine(snapshotDirPath, relativePath);
        var file = new FileInfo(path);
        if (file.LinkTarget is not null)
        {
            return (null, $"{NameText.Printable(path)} is a symbolic link in the restored snapshot, not the canary");
        }

        if (!file.Exists)
        {
            return (null, $"{NameText.Printable(path)} is missing from the restored snapshot");
        }

        if (file.Length > MaxBytes)
        {
            return (null, $"{NameText.Printable(path)} is {file.Length} bytes, too long to be a canary");
        }

        try
        {
            return (File.ReadAllText(path, Encoding.ASCII), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, $"{NameText.Printable(path)} cannot be read: {ex.Message}");
        }
    }

    /// <summary>
    /// Every directory between the subvolume and the file must be a real directory, and the file
    /// itself a regular file or absent. (A race with a process replacing a directory by a symlink
    /// in between remains; keep CANARY_FILE where only root writes, e.g. the subvolume's top.)
    /// </summary>
    private void RequireNoSymlinks()
    {
        var dir = sourceDirPath;
        foreach (var part in RelativePath.Split('/')[..^1])
        {
            dir = Path.Combine(dir, part);
            var info = new DirectoryInfo(dir);
            if (info.LinkTarget is not null || !info.Exists)
            {
                throw new RefusedException("canary", $"CANARY_FILE {NameText.Printable(RelativePath)}: {NameText.Printable(dir)} is {(info.LinkTarget is null ? "not an existing directory" : "a symbolic link")}; refusing to write the canary (allowed: a path through real directories inside the source subvolume); no snapshot was taken");
            }
        }

        var file = new FileInfo(FilePath);
        if (file.LinkTarget is not null || Directory.Exists(FilePath))
        {
            throw new RefusedException("canary", $"CANARY_FILE {NameText.Printable(FilePath)} is {(file.LinkTarget is null ? "a directory" : "a symbolic link")}; refusing to replace it (allowed: a regular file or nothing); no snapshot was taken");
        }
    }
}

using System.Runtime.InteropServices;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Storage;

/// <summary>
/// Durable, never-partial, never-replacing file commits (restic's order):
/// data goes to a temp file in the same directory → fsync → chmod 0400 (owner root:root when
/// running as root) → rename that refuses to replace → fsync the directory. A reader can only
/// ever see a missing file or a complete read-only one.
/// </summary>
public static class DurableFiles
{
    /// <summary>Temp files start with this, so no stored-name parser accepts them and listings skip them.</summary>
    public const string TempPrefix = ".tmp-";

    /// <summary>0400: read-only for the owner (root), nothing for anyone else.</summary>
    public const UnixFileMode CommittedMode = UnixFileMode.UserRead;

    /// <summary>A temp path unique to this process and call, beside <paramref name="finalName"/> in <paramref name="dirPath"/>.</summary>
    public static string TempPathFor(string dirPath, string finalName)
        => Path.Combine(dirPath, $"{TempPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}-{finalName}");

    /// <summary>Creates the temp file exclusively (never opens an existing one), mode 0600.</summary>
    public static FileStream CreateTemp(string tempPath, int bufferSize = 0)
        => new(tempPath, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = bufferSize,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });

    /// <summary>
    /// Commits a fully written and flushed temp file under <paramref name="finalPath"/>.
    /// Throws <see cref="RefusedException"/> (code <c>exists</c>) if the final name exists;
    /// the temp file is then left for the caller to delete.
    /// </summary>
    public static void Commit(string tempPath, string finalPath)
    {
        using (var handle = File.OpenHandle(tempPath, FileMode.Open, FileAccess.ReadWrite))
        {
            FsyncHandle(handle, tempPath);
        }

        File.SetUnixFileMode(tempPath, CommittedMode);
        if (Native.GetEuid() == 0 && Native.Chown(tempPath, 0, 0) != 0)
        {
            throw new StorageException($"chown root:root {tempPath} failed: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        RenameNoReplace(tempPath, finalPath);
        FsyncDirectory(Path.GetDirectoryName(finalPath)!);
    }

    /// <summary>Writes <paramref name="content"/> durably to <paramref name="finalPath"/> (temp, fsync, 0400, no-replace rename, dir fsync).</summary>
    public static void WriteNew(string finalPath, ReadOnlySpan<byte> content)
    {
        var temp = TempPathFor(Path.GetDirectoryName(finalPath)!, Path.GetFileName(finalPath));
        try
        {
            using (var stream = CreateTemp(temp))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            Commit(temp, finalPath);
        }
        finally
        {
            File.Delete(temp); // gone after a successful rename; removes the leftover after a failure
        }
    }

    /// <summary>Replaces <paramref name="finalPath"/> atomically (temp, fsync, rename, dir fsync) — for state files, not for backups.</summary>
    public static void Replace(string finalPath, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(finalPath))!;
        var temp = TempPathFor(dir, Path.GetFileName(finalPath));
        try
        {
            using (var stream = CreateTemp(temp))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.SetUnixFileMode(temp, mode);
            File.Move(temp, finalPath, overwrite: true);
            FsyncDirectory(dir);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>rename(2) that never replaces: renameat2(RENAME_NOREPLACE), or link+unlink where that is unsupported.</summary>
    public static void RenameNoReplace(string fromPath, string toPath)
    {
        if (Native.RenameAt2(Native.AtFdCwd, fromPath, Native.AtFdCwd, toPath, Native.RenameNoReplace) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno is Native.EInval or Native.ENoSys)
        {
            // Filesystem without RENAME_NOREPLACE: link(2) also refuses an existing target.
            if (Native.Link(fromPath, toPath) == 0)
            {
                File.Delete(fromPath);
                return;
            }

            errno = Marshal.GetLastPInvokeError();
        }

        if (errno == Native.EExist)
        {
            throw new RefusedException("exists", $"{toPath} already exists; committed files are never replaced");
        }

        throw new StorageException($"rename {fromPath} -> {toPath} failed: {Native.ErrorText(errno)}");
    }

    /// <summary>fsync(2) on a directory, so a rename inside it survives a crash.</summary>
    public static void FsyncDirectory(string dirPath)
    {
        var fd = Native.Open(dirPath, Native.ORdOnly | Native.ODirectory | Native.OCloexec);
        if (fd < 0)
        {
            throw new StorageException($"open directory {dirPath} failed: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (Native.Fsync(fd) != 0)
            {
                throw new StorageException($"fsync directory {dirPath} failed: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            Native.Close(fd);
        }
    }

    /// <summary>Deletes temp files in <paramref name="dirPath"/> (call only while holding the directory's lock).</summary>
    public static IReadOnlyList<string> DeleteStaleTemps(string dirPath)
    {
        if (!Directory.Exists(dirPath))
        {
            return [];
        }

        var deleted = new List<string>();
        foreach (var path in Directory.EnumerateFiles(dirPath, TempPrefix + "*"))
        {
            File.Delete(path);
            deleted.Add(path);
        }

        return deleted;
    }

    private static void FsyncHandle(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (IOException ex)
        {
            throw new StorageException($"fsync {path} failed: {ex.Message}", ex);
        }
    }
}

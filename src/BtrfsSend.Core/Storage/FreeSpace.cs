using System.Runtime.InteropServices;
using BtrfsSend.Core.Errors;

namespace BtrfsSend.Core.Storage;

/// <summary>Free space as an unprivileged writer would see it (statvfs f_bavail).</summary>
public static class FreeSpace
{
    public static long AvailableBytes(string path)
    {
        if (Native.StatVfs(path, out var buffer) != 0)
        {
            throw new StorageException($"statvfs {path} failed: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        return (long)Math.Min(buffer.BlocksAvailable * buffer.FragmentSize, long.MaxValue);
    }

    /// <summary>True when the filesystem holding <paramref name="path"/> is mounted read-only (statvfs ST_RDONLY).</summary>
    public static bool IsReadOnly(string path)
    {
        const ulong stReadOnly = 1;
        if (Native.StatVfs(path, out var buffer) != 0)
        {
            throw new StorageException($"statvfs {path} failed: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        return (buffer.Flags & stReadOnly) != 0;
    }
}

using System.Runtime.InteropServices;

namespace BtrfsSend.Core.Storage;

/// <summary>The few libc calls .NET does not expose: no-replace rename, directory fsync, flock, statvfs, chown.</summary>
internal static partial class Native
{
    public const int AtFdCwd = -100;
    public const uint RenameNoReplace = 1;
    public const uint RenameExchange = 2;
    public const int EExist = 17;
    public const int EInval = 22;
    public const int ENoSys = 38;
    public const int EWouldBlock = 11;
    public const int LockEx = 2;
    public const int LockNb = 4;
    public const int LockUn = 8;
    public const int ORdOnly = 0;
    public const int ODirectory = 0x10000;
    public const int OCloexec = 0x80000;
    public const int ORdWr = 2;
    public const int OCreat = 0x40;
    public const int ONoFollow = 0x20000;
    public const int ONonBlock = 0x800;
    public const int EIntr = 4;
    public const int FSetPipeSize = 1031;
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const short PollIn = 0x1;

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int RenameAt2(int oldDirFd, string oldPath, int newDirFd, string newPath, uint flags);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string oldPath, string newPath);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    /// <summary>open(2) with a mode: the variadic int travels in the same register as a fixed one on x86-64 and arm64 Linux.</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenWithMode(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, Span<byte> buffer, nint count);

    /// <summary>fcntl(2) with an int argument (F_SETPIPE_SZ and the like).</summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(ref PollFd fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chown(string path, int owner, int group);

    /// <summary>STATX_BASIC_STATS.</summary>
    public const uint StatxBasicStats = 0x7ff;

    /// <summary>Byte offset of stx_uid in struct statx (the same on every Linux architecture).</summary>
    public const int StatxUidOffset = 20;

    /// <summary>Byte offset of stx_mode (u16) in struct statx.</summary>
    public const int StatxModeOffset = 28;

    /// <summary>statx(2) into a buffer of at least 256 bytes; read fields at the offsets above.</summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirFd, string path, int flags, uint mask, Span<byte> buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatVfs(string path, out StatVfsBuffer buffer);

    public static string ErrorText(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";

    /// <summary>struct statvfs on 64-bit Linux (glibc).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatVfsBuffer
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public ulong FilesAvailable;
        public ulong FsId;
        public ulong Flags;
        public ulong NameMax;
        public int Spare0;
        public int Spare1;
        public int Spare2;
        public int Spare3;
        public int Spare4;
        public int Spare5;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }
}

using System.Runtime.InteropServices;
using BtrfsSend.Core.Errors;
using Microsoft.Win32.SafeHandles;

namespace BtrfsSend.Core.Storage;

/// <summary>
/// An exclusive, non-blocking flock(2) on a lock file. The kernel drops it when the process dies
/// (even on SIGKILL), so a crashed holder never leaves a stale lock.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    private readonly SafeFileHandle _file;

    private DirectoryLock(SafeFileHandle file, string lockFilePath)
    {
        _file = file;
        LockFilePath = lockFilePath;
    }

    public string LockFilePath { get; }

    private const int GraceAttempts = 20;

    private static readonly TimeSpan GraceStep = TimeSpan.FromMilliseconds(50);

    /// <summary>Takes the lock or returns null if another process holds it.</summary>
    public static DirectoryLock? TryAcquire(string lockFilePath)
    {
        // Raw open(2): .NET's FileStream takes its own flock(LOCK_SH) on open, which would collide with ours.
        var fd = Native.OpenWithMode(lockFilePath, Native.ORdWr | Native.OCreat | Native.OCloexec | Native.ONoFollow, 0b110_000_000);
        if (fd < 0)
        {
            throw new StorageException($"open lock file {lockFilePath} failed: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        var file = new SafeFileHandle(fd, ownsHandle: true);
        var errno = 0;

        // A holder that is just finishing releases within moments; only a lock still held after a
        // short grace period counts as busy. Why a released lock can look held for a moment: a flock
        // belongs to the open file description, and a child forked by ANY thread of this process
        // (Process.Start elsewhere in the same process) shares it from fork() until its exec()
        // closes the O_CLOEXEC copy. Under heavy load that window reached ~50 ms in the in-process
        // test host, where many tests start processes at once. One serve request per process in
        // production makes it rare there, but the grace period covers both.
        for (var attempt = 0; attempt < GraceAttempts; attempt++)
        {
            if (Native.Flock(fd, Native.LockEx | Native.LockNb) == 0)
            {
                return new DirectoryLock(file, lockFilePath);
            }

            errno = Marshal.GetLastPInvokeError();
            if (errno != Native.EWouldBlock)
            {
                break;
            }

            Thread.Sleep(GraceStep);
        }

        file.Dispose();
        if (errno == Native.EWouldBlock)
        {
            return null;
        }

        throw new StorageException($"flock {lockFilePath} failed: {Native.ErrorText(errno)}");
    }

    /// <summary>Takes the lock or throws <see cref="LockHeldException"/> with <paramref name="whatIsBusy"/> in the message.</summary>
    public static DirectoryLock Acquire(string lockFilePath, string whatIsBusy)
        => TryAcquire(lockFilePath) ?? throw new LockHeldException($"{whatIsBusy} is busy: another process holds {lockFilePath}; try again when it has finished");

    public void Dispose() => _file.Dispose();
}

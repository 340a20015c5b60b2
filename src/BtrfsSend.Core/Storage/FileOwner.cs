using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace BtrfsSend.Core.Storage;

/// <summary>
/// The owner of a file as <c>statx(2)</c> reports it, without following a final symlink (.NET
/// exposes a file's mode but not its owner). <c>struct statx</c> has the same layout on every
/// Linux architecture: <c>stx_uid</c> is the 32-bit word at byte 20.
/// </summary>
internal static partial class FileOwner
{
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxUid = 0x8;
    private const int StatxSize = 256;
    private const int UidOffset = 20;

    /// <summary>The uid owning <paramref name="path"/> (the link itself for a symlink); throws <see cref="IOException"/> when it cannot be read.</summary>
    public static uint UidOf(string path)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        if (Statx(Native.AtFdCwd, path, AtSymlinkNoFollow, StatxUid, buffer) != 0)
        {
            throw new IOException($"cannot read the owner of {path}: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        }

        return BinaryPrimitives.ReadUInt32LittleEndian(buffer[UidOffset..]);
    }

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => Native.GetEuid();

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirFd, string path, int flags, uint mask, Span<byte> buffer);
}

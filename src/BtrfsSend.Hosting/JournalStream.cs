using System.Globalization;
using System.Runtime.InteropServices;

namespace BtrfsSend.Hosting;

/// <summary>
/// Whether stderr is connected to the systemd journal. systemd sets <c>JOURNAL_STREAM</c> to the
/// <c>device:inode</c> of the stream it connected; per sd-daemon(3) a program must compare it
/// with its own stderr, because the variable is inherited by children whose stderr was
/// redirected elsewhere (a cron mail, a pipe, a file).
/// </summary>
public static partial class JournalStream
{
    /// <summary>The variable systemd sets for services whose stdout/stderr go to the journal.</summary>
    public const string EnvironmentVariable = "JOURNAL_STREAM";

    /// <summary>True when <see cref="EnvironmentVariable"/> names this process's stderr (fd 2).</summary>
    public static bool IsStandardError() => Matches(Environment.GetEnvironmentVariable(EnvironmentVariable), TryStat(2));

    /// <summary>
    /// Whether <paramref name="value"/> (<c>DEV:INODE</c>, both decimal) names the file
    /// <paramref name="stderr"/> (its st_dev and st_ino, or null when fstat failed).
    /// </summary>
    public static bool Matches(string? value, (ulong Device, ulong Inode)? stderr)
    {
        if (value is null || stderr is not { } actual)
        {
            return false;
        }

        var parts = value.Split(':');
        return parts.Length == 2
            && ulong.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var device)
            && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
            && device == actual.Device
            && inode == actual.Inode;
    }

    /// <summary>st_dev and st_ino of <paramref name="fd"/>, or null when fstat fails.</summary>
    public static unsafe (ulong Device, ulong Inode)? TryStat(int fd)
    {
        // struct stat starts with dev_t st_dev and ino_t st_ino (8 bytes each) on the 64-bit
        // Linux ABIs this program is built for (x86-64, arm64); 256 bytes cover the whole struct.
        var buffer = stackalloc byte[256];
        try
        {
            return FStat(fd, buffer) == 0 ? (*(ulong*)buffer, *(ulong*)(buffer + 8)) : null;
        }
        catch (EntryPointNotFoundException)
        {
            // glibc before 2.33 exports fstat only as __fxstat: then the journal goes unrecognised
            // and lines carry no priority prefix, as before.
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "fstat")]
    private static unsafe partial int FStat(int fd, byte* buffer);
}

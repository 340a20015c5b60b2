using System.Globalization;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// The record of an open LUKS session: one small root-only file per LUKS_NAME under a tmpfs
/// directory (<c>/run</c>, so a reboot — which also closes the volume — forgets it), holding the
/// UTC time the volume was opened. Never the key.
/// </summary>
internal sealed class LuksLease(string leaseDirPath, string luksName)
{
    public const string DefaultDirPath = "/run/btrfs-backup-receive";

    public string FilePath => Path.Combine(leaseDirPath, $"luks-{luksName}.lease");

    /// <summary>The lock every remote-btrfs verb on this volume holds: open, receive, prune and close never overlap.</summary>
    public string LockFilePath => Path.Combine(leaseDirPath, $"luks-{luksName}.lock");

    public void EnsureDirectory()
        => Directory.CreateDirectory(leaseDirPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

    /// <summary>When the session was opened, or null when no lease is recorded (or it is unreadable: then it counts as stale).</summary>
    public DateTimeOffset? TryReadOpenedAt()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        var text = File.ReadAllText(FilePath).Trim();
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : DateTimeOffset.MinValue;
    }

    public bool Exists => File.Exists(FilePath);

    public void Write(DateTimeOffset openedAt)
    {
        EnsureDirectory();
        var text = openedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + "\n";
        DurableFiles.Replace(FilePath, System.Text.Encoding.ASCII.GetBytes(text), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Delete() => File.Delete(FilePath);
}

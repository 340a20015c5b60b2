using System.Globalization;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// The record of an open LUKS session: one small root-only file per LUKS_NAME under a tmpfs
/// directory (<c>/run</c>, so a reboot — which also closes the volume — forgets it), holding the
/// UTC time the volume was opened and, on a second line <c>client=NAME</c>, the client that opened
/// it (the only one that may close it; <c>-</c> when unpinned). Never the key.
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

        var text = File.ReadAllText(FilePath).Split('\n')[0].Trim();
        return DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t
            : DateTimeOffset.MinValue;
    }

    /// <summary>The client recorded as the opener, or null when there is no lease or it names none (a lease written before openers were recorded).</summary>
    public string? TryReadOpener()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        return File.ReadAllText(FilePath).Split('\n')
            .Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith(OpenerKey, StringComparison.Ordinal))?[OpenerKey.Length..];
    }

    private const string OpenerKey = "client=";

    public bool Exists => File.Exists(FilePath);

    public void Write(DateTimeOffset openedAt, string opener)
    {
        EnsureDirectory();
        var text = openedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + "\n" + OpenerKey + opener + "\n";
        DurableFiles.Replace(FilePath, System.Text.Encoding.ASCII.GetBytes(text), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public void Delete() => File.Delete(FilePath);
}

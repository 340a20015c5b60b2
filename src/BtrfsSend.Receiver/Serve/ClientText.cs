using System.Text.RegularExpressions;
using BtrfsSend.Core.Configuration;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// What may reach the client (the ERR line on stdout, the one-liner on stderr that sshd forwards):
/// never a path on the backup server. A configured directory becomes its key's name
/// (<c>BACKUP_ROOT/prod-srv/rootfs</c>), any other absolute path becomes <c>&lt;path&gt;</c>; the
/// receiver's log keeps the full text.
/// </summary>
internal static partial class ClientText
{
    public const string HiddenPath = "<path>";

    public static string WithoutPaths(string message, ReceiverOptions options)
    {
        var text = message;
        foreach (var (key, path) in Roots(options))
        {
            text = text.Replace($"{key} {path}", key, StringComparison.Ordinal).Replace(path, key, StringComparison.Ordinal);
        }

        return AbsolutePath().Replace(text, HiddenPath);
    }

    private static IEnumerable<(string Key, string Path)> Roots(ReceiverOptions options)
    {
        (string Key, string? Path)[] roots =
        [
            ("RECEIVED_ROOT", options.ReceivedRootDirPath),
            ("LUKS_MOUNT", options.LuksMountDirPath),
            ("BACKUP_ROOT", options.BackupRootDirPath),
            ("LUKS_DEVICE", options.LuksDevicePath),
            ("LUKS_TOOLS_DIR", options.LuksToolsDirPath),
            ("LOG_FILE", options.LogFilePath),
        ];

        // The longest first: RECEIVED_ROOT usually lies under LUKS_MOUNT. "/" itself is left to the pattern.
        return roots
            .Where(r => r.Path is { Length: > 1 })
            .Select(r => (r.Key, Path: r.Path!.TrimEnd('/')))
            .OrderByDescending(r => r.Path.Length);
    }

    /// <summary>A slash that starts a word, followed by a path character: "/srv/x", not "a/b" or " / ".</summary>
    [GeneratedRegex(@"(?<![\w.~-])/[\w.+@%=~-][^\s'"",;()\[\]{}]*", RegexOptions.CultureInvariant)]
    private static partial Regex AbsolutePath();
}

namespace BtrfsSend.Core.Btrfs;

/// <summary>
/// Pure argv builders for btrfs-progs. Paths are passed as single argv words, never through a
/// shell. Tested by a table in BtrfsArgvTests.
/// </summary>
public static class BtrfsArgv
{
    public const string Btrfs = "btrfs";

    /// <summary>
    /// <c>btrfs send -q [--proto 2 [--compressed-data]] [-p PARENT] SNAPSHOT</c>; -q keeps stderr for
    /// real errors. Protocol 1 adds no option: it is what every btrfs-progs sends by default.
    /// </summary>
    public static string[] Send(string snapshotPath, string? parentPath = null, SendProtocol? protocol = null)
    {
        var argv = new List<string> { Btrfs, "send", "-q" };
        argv.AddRange((protocol ?? SendProtocol.V1).SendOptions());
        if (parentPath is not null)
        {
            argv.AddRange(["-p", parentPath]);
        }

        argv.Add(snapshotPath);
        return [.. argv];
    }

    /// <summary>
    /// <c>btrfs receive -q [-e] --chroot DIR</c> reading the stream from stdin. Always
    /// <c>--chroot</c> (btrfs-receive(8) <c>-C</c>): btrfs receive chroots into DIR before the
    /// first command, so a stream whose paths go through a symlink (<c>esc -&gt; /etc</c>, then
    /// <c>esc/x</c>) or <c>..</c> cannot create or write anything outside DIR, and the paths it
    /// builds no longer carry DIR's own length (btrfs-progs joins them in PATH_MAX buffers).
    /// Parents of incrementals are still found: btrfs receive opens the filesystem before it
    /// chroots. It then prints <c>Chroot to DIR</c> on stderr even with <c>-q</c>.
    /// </summary>
    public static string[] Receive(string targetDirPath, bool stopAtEnd = false)
        => stopAtEnd ? [Btrfs, "receive", "-q", "-e", "--chroot", targetDirPath] : [Btrfs, "receive", "-q", "--chroot", targetDirPath];

    /// <summary>The line <c>btrfs receive --chroot DIR</c> prints on stderr before it starts (not an error).</summary>
    public const string ChrootNoticePrefix = "Chroot to ";

    /// <summary><c>btrfs subvolume snapshot -r SOURCE TARGET</c>.</summary>
    public static string[] SnapshotReadOnly(string sourcePath, string targetPath)
        => [Btrfs, "subvolume", "snapshot", "-r", sourcePath, targetPath];

    /// <summary><c>btrfs subvolume delete --commit-after PATH</c>.</summary>
    public static string[] DeleteSubvolume(string path)
        => [Btrfs, "subvolume", "delete", "--commit-after", path];

    /// <summary><c>btrfs subvolume show PATH</c>.</summary>
    public static string[] ShowSubvolume(string path) => [Btrfs, "subvolume", "show", path];

    /// <summary><c>btrfs property get -ts PATH ro</c> → <c>ro=true</c>/<c>ro=false</c>.</summary>
    public static string[] GetReadOnly(string path) => [Btrfs, "property", "get", "-ts", path, "ro"];

    /// <summary><c>btrfs property set -ts PATH ro false</c> (needed to delete a received subvolume's files, not to delete the subvolume).</summary>
    public static string[] SetReadOnly(string path, bool readOnly)
        => [Btrfs, "property", "set", "-ts", path, "ro", readOnly ? "true" : "false"];

    /// <summary><c>btrfs subvolume list -o PATH</c>: subvolumes below PATH.</summary>
    public static string[] ListSubvolumesBelow(string path) => [Btrfs, "subvolume", "list", "-o", path];
}

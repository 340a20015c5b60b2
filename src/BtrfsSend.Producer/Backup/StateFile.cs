using System.Text;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// STATE_FILE: one line, the name of the last snapshot the receiver acknowledged (prod-btrfs-backup.sh's
/// format). Written only after a matching <c>OK</c>, atomically (temp, fsync, rename).
/// </summary>
internal sealed class StateFile(string filePath)
{
    public string FilePath { get; } = filePath;

    /// <summary>The recorded snapshot, or null when the file is missing or empty. Garbage is an error, not "no state".</summary>
    public SnapshotName? Read()
    {
        if (!File.Exists(FilePath))
        {
            return null;
        }

        var text = File.ReadAllText(FilePath).Trim();
        if (text.Length == 0)
        {
            return null;
        }

        var check = SnapshotName.Check(text);
        return check.Value ?? throw new Core.Errors.ConfigException($"STATE_FILE {FilePath} does not hold a snapshot name ({check.Error}); fix or delete it (deleting it makes the next run send a full stream)");
    }

    public void Write(SnapshotName snapshot)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(FilePath))!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        DurableFiles.Replace(FilePath, Encoding.ASCII.GetBytes(snapshot.Value + "\n"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }
}

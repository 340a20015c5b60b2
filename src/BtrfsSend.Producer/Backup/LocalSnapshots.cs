using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Producer.Backup;

/// <summary>The read-only snapshots in SNAPSHOT_DIR named <c>&lt;SNAPSHOT_PREFIX&gt;-&lt;UTC time&gt;</c>.</summary>
internal sealed class LocalSnapshots(string snapshotDirPath, string prefix, ToolRunner tools)
{
    public string DirPath { get; } = snapshotDirPath;

    public string PathOf(SnapshotName snapshot) => Path.Combine(DirPath, snapshot.Value);

    /// <summary>Every snapshot of this prefix, oldest first. Anything else in the directory is ignored.</summary>
    public IReadOnlyList<SnapshotName> List()
    {
        if (!Directory.Exists(DirPath))
        {
            return [];
        }

        return Directory.EnumerateDirectories(DirPath)
            .Select(d => SnapshotName.Check(Path.GetFileName(d)).Value)
            .Where(s => s is not null && s.Prefix == prefix)
            .Select(s => s!)
            .OrderBy(s => s.TimestampUtc)
            .ToList();
    }

    public async Task CreateAsync(string sourcePath, SnapshotName snapshot, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(DirPath);
        await tools.RunAsync(BtrfsArgv.SnapshotReadOnly(sourcePath, PathOf(snapshot)), cancellationToken: cancellationToken);
    }

    /// <summary>Deletes a snapshot (never uses a cancellable token: cleanup must finish).</summary>
    public async Task DeleteAsync(SnapshotName snapshot)
        => await tools.RunAsync(BtrfsArgv.DeleteSubvolume(PathOf(snapshot)), cancellationToken: CancellationToken.None);

    /// <summary>The snapshot's btrfs UUID (declared to the receiver; becomes received_uuid on restore).</summary>
    public async Task<string?> UuidAsync(SnapshotName snapshot, CancellationToken cancellationToken = default)
    {
        var show = await tools.TryRunAsync(BtrfsArgv.ShowSubvolume(PathOf(snapshot)), cancellationToken: cancellationToken);
        if (!show.IsSuccess)
        {
            return null;
        }

        var line = show.StandardOutput.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("UUID:", StringComparison.Ordinal));
        var uuid = line?["UUID:".Length..].Trim();
        return uuid is { Length: 36 } ? uuid.ToLowerInvariant() : null;
    }
}

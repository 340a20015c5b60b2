using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// The restore target <c>DIR</c>: which links it already holds (a finished receive at
/// <c>DIR/&lt;snapshot&gt;</c>, matched to the manifest's <c>snapshot_uuid</c> when known), and
/// removing what a failed receive left behind.
/// </summary>
internal sealed class TargetDirectory(string dirPath, ToolRunner tools)
{
    public string DirPath { get; } = Path.GetFullPath(dirPath);

    public string PathOf(RestoreLink link) => Path.Combine(DirPath, link.Snapshot.Value);

    /// <summary>Throws unless DIR exists and is on btrfs.</summary>
    public async Task RequireUsableAsync(CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(DirPath))
        {
            throw new PrerequisiteException($"--to {NameText.Printable(DirPath)}: no such directory; create it on a btrfs filesystem first");
        }

        var show = await tools.TryRunAsync(BtrfsArgv.RootId(DirPath), cancellationToken: cancellationToken);
        if (!show.IsSuccess)
        {
            throw new PrerequisiteException($"--to {NameText.Printable(DirPath)} is not on a btrfs filesystem (btrfs receive needs one): {show.StandardErrorTail.Trim()}");
        }
    }

    /// <summary>What DIR holds where <paramref name="link"/> would be received.</summary>
    public async Task<TargetLinkState> InspectAsync(RestoreLink link, CancellationToken cancellationToken = default)
    {
        var path = PathOf(link);
        if (!Directory.Exists(path) && !File.Exists(path) && new FileInfo(path).LinkTarget is null)
        {
            return new TargetLinkState(TargetLinkKind.Absent, "not there yet");
        }

        var state = await TryShowAsync(path, cancellationToken);
        if (state is null)
        {
            return new TargetLinkState(TargetLinkKind.Conflict, $"{path} exists and is not a btrfs subvolume; move it away first");
        }

        if (!state.IsCompleteReceive)
        {
            return new TargetLinkState(TargetLinkKind.Conflict,
                $"{path} exists but is not a finished receive ({(state.IsReadOnly ? "read-only" : "writable")}, received_uuid {state.ReceivedUuid ?? "-"}); it may be left from an interrupted restore: check it and delete it with 'btrfs subvolume delete {path}'");
        }

        if (link.SnapshotUuid is { } expected && !string.Equals(expected, state.ReceivedUuid, StringComparison.OrdinalIgnoreCase))
        {
            return new TargetLinkState(TargetLinkKind.Conflict,
                $"{path} was received from subvolume {state.ReceivedUuid}, but the backup's snapshot is {expected}; move it away first");
        }

        return new TargetLinkState(TargetLinkKind.Present, $"already there (read-only, received_uuid {state.ReceivedUuid})");
    }

    /// <summary>Facts about a subvolume, or null when the path is not one.</summary>
    public async Task<SubvolumeState?> TryShowAsync(string path, CancellationToken cancellationToken = default)
    {
        var show = await tools.TryRunAsync(BtrfsArgv.ShowSubvolume(path), cancellationToken: cancellationToken);
        if (!show.IsSuccess)
        {
            return null;
        }

        var ro = await tools.TryRunAsync(BtrfsArgv.GetReadOnly(path), cancellationToken: cancellationToken);
        return SubvolumeState.TryParse(show.StandardOutput, ro.IsSuccess ? ro.StandardOutput : "");
    }

    /// <summary>The names directly in DIR.</summary>
    public IReadOnlySet<string> Entries()
        => Directory.EnumerateFileSystemEntries(DirPath).Select(p => Path.GetFileName(p)).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Deletes the subvolumes that appeared in DIR since <paramref name="before"/>; returns their
    /// paths, each with why when it could not be deleted (never throws over the original failure).
    /// </summary>
    public async Task<IReadOnlyList<string>> DeleteNewSubvolumesAsync(IReadOnlySet<string> before, CancellationToken cancellationToken = default)
    {
        var deleted = new List<string>();
        foreach (var name in Entries().Where(n => !before.Contains(n)).Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(DirPath, name);
            if (await TryShowAsync(path, cancellationToken) is null)
            {
                continue; // not a subvolume: not ours to delete
            }

            var delete = await tools.TryRunAsync(BtrfsArgv.DeleteSubvolume(path), cancellationToken: cancellationToken);
            deleted.Add(delete.IsSuccess
                ? path
                : $"{path} could NOT be deleted ({delete.StandardErrorTail.Trim()}): delete it by hand before trusting or retrying");
        }

        return deleted;
    }
}

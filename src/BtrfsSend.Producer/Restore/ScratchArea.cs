using System.Globalization;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// A fresh subdirectory (mode 0700) of a scratch directory on btrfs that a chain is received into,
/// and its removal: every subvolume in it (the chain's newest first, then anything else), then the
/// subdirectory, never cancelled. The restore drill and <c>extract</c> use it; the scratch
/// directory itself is left as it was.
/// </summary>
internal sealed class ScratchArea
{
    private readonly ToolRunner _tools;

    private ScratchArea(string dirPath, ToolRunner tools)
    {
        DirPath = dirPath;
        _tools = tools;
    }

    /// <summary>The subdirectory: <c>SCRATCH/&lt;prefix&gt;&lt;time&gt;-&lt;pid&gt;-&lt;random&gt;</c>.</summary>
    public string DirPath { get; }

    /// <summary>Creates the subdirectory; throws <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/>.</summary>
    public static ScratchArea Create(string scratchDirPath, string prefix, ToolRunner tools)
    {
        var path = Path.Combine(scratchDirPath, string.Create(CultureInfo.InvariantCulture,
            $"{prefix}{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"));
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new ScratchArea(path, tools);
    }

    /// <summary>
    /// Deletes every subvolume in the subdirectory (the chain's newest first, then anything else),
    /// then the subdirectory; never cancelled. Returns what could not be removed, or null.
    /// </summary>
    public async Task<string?> CleanUpAsync(IReadOnlyList<RestoreLink> chain)
    {
        if (!Directory.Exists(DirPath))
        {
            return null;
        }

        var rank = chain.Select((l, i) => (l.Snapshot.Value, i)).ToDictionary(p => p.Value, p => p.i, StringComparer.Ordinal);
        var entries = Directory.EnumerateFileSystemEntries(DirPath).Select(p => Path.GetFileName(p))
            .OrderByDescending(n => rank.TryGetValue(n, out var i) ? i : int.MaxValue)
            .ThenBy(n => n, StringComparer.Ordinal)
            .ToList();
        var problems = new List<string>();
        var scratch = new TargetDirectory(DirPath, _tools, "--scratch");
        foreach (var name in entries)
        {
            var path = Path.Combine(DirPath, name);
            if (await scratch.TryShowAsync(path, CancellationToken.None) is null)
            {
                problems.Add($"{NameText.Printable(path)} is not a subvolume this command created; left in place");
                continue;
            }

            var delete = await _tools.TryRunAsync(BtrfsArgv.DeleteSubvolume(path), cancellationToken: CancellationToken.None);
            if (!delete.IsSuccess)
            {
                problems.Add($"{NameText.Printable(path)} could NOT be deleted ({delete.StandardErrorTail.Trim()})");
            }
        }

        try
        {
            Directory.Delete(DirPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{NameText.Printable(DirPath)} could not be removed: {ex.Message}");
        }

        return problems.Count == 0 ? null : $"scratch not clean: {string.Join("; ", problems)}; delete by hand with 'btrfs subvolume delete'";
    }
}

using System.Runtime.InteropServices;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// <c>extract</c>: restores one path of one snapshot. The snapshot's chain is received with
/// <see cref="ChainRestorer"/> (every check of restore, <c>btrfs receive --chroot</c>) into a fresh
/// <see cref="ScratchArea"/>; PATH is resolved inside the received snapshot
/// (<see cref="SnapshotPath.Resolve"/>); <c>cp -a --reflink=auto</c> copies it to a temporary name
/// next to the destination, which is then renamed into place (atomically exchanged with the old
/// one under <c>--force</c>). The scratch subvolumes are deleted afterwards, also after a failure
/// or SIGTERM/SIGINT; a half-made copy is removed.
/// </summary>
internal sealed class PathExtractor(IRestoreSource source, KeyFiles keyFiles, ToolRunner tools, ILogger log)
{
    /// <summary>The scratch subdirectory's name prefix.</summary>
    public const string WorkPrefix = "btrfs-send-extract-";

    /// <summary>The temporary copy next to the destination: <c>.btrfs-send-extract-&lt;pid&gt;-&lt;random&gt;</c>.</summary>
    public const string TempPrefix = "." + WorkPrefix;

    /// <summary>
    /// LEDGER_FILE, when the newest snapshot (<c>--latest</c>) must not be older than the newest
    /// acknowledged upload (<see cref="RollbackGuard"/>); null with <c>--allow-rollback</c> or without a configuration.
    /// </summary>
    public string? RollbackLedgerFilePath { get; init; }

    /// <summary><c>cp -a --reflink=auto -T -- SOURCE TARGET</c>: mode, owner, timestamps, xattrs and ACLs, symlinks as symlinks, hardlinks within the copy.</summary>
    public static string[] CopyArgv(string sourcePath, string targetPath)
        => ["cp", "-a", "--reflink=auto", "--no-target-directory", "--", sourcePath, targetPath];

    /// <summary><c>rm -rf --one-file-system -- PATH</c>: removes a copy this command made.</summary>
    public static string[] RemoveArgv(string path) => ["rm", "-rf", "--one-file-system", "--", path];

    public async Task<int> RunAsync(
        BackupSet set, SnapshotName? snapshot, SnapshotPath path, string destinationPath, string? scratchDirPath, bool force, TextWriter output, CancellationToken cancellationToken = default)
    {
        var destination = Path.GetFullPath(destinationPath).TrimEnd('/');
        var destinationName = Path.GetFileName(destination);
        var destinationDir = Path.GetDirectoryName(destination);
        if (destinationDir is null || destinationName.Length == 0)
        {
            throw new ConfigException($"--to {NameText.Printable(destinationPath)}: give a path to create (a file or directory name), not the root directory");
        }

        if (!Directory.Exists(destinationDir))
        {
            throw new PrerequisiteException($"--to {NameText.Printable(destination)}: its directory {NameText.Printable(destinationDir)} does not exist; create it first");
        }

        var existed = Exists(destination);
        if (existed && !force)
        {
            throw new RefusedException("exists", $"--to {NameText.Printable(destination)} already exists; give --force to replace it, or another path; nothing was received");
        }

        var scratch = await RequireScratchAsync(scratchDirPath, destinationDir, cancellationToken);
        var realScratch = await RealPathAsync(scratch.DirPath, cancellationToken);
        var realDestination = Path.Combine(await RealPathAsync(destinationDir, cancellationToken), destinationName);
        if (IsSameOrInside(realScratch, realDestination))
        {
            throw new RefusedException("bad-destination", $"--to {NameText.Printable(destination)} is or contains the scratch directory {NameText.Printable(realScratch)}; choose another destination or --scratch; nothing was received");
        }

        if (scratchDirPath is not null && IsSameOrInside(realDestination, realScratch))
        {
            throw new RefusedException("bad-destination", $"--to {NameText.Printable(destination)} is inside --scratch {NameText.Printable(realScratch)}, which only holds what extract deletes again; choose a destination outside it; nothing was received");
        }

        var stored = await source.ListAsync(cancellationToken);
        if (snapshot is null && RollbackLedgerFilePath is { } ledgerPath && new UploadLedger(ledgerPath).Exists)
        {
            RollbackGuard.Check(set, stored, new UploadLedger(ledgerPath).Read(), ledgerPath, source.Description,
                command: "extract --latest", refused: "nothing was extracted; to extract from the older one anyway");
        }

        var chain = RestorePlan.ChainOf(stored, snapshot, set, source.Description);
        var target = chain[^1].Snapshot;
        ScratchArea area;
        try
        {
            area = ScratchArea.Create(scratch.DirPath, WorkPrefix, tools);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"cannot create a subdirectory of the scratch directory {NameText.Printable(scratch.DirPath)}: {ex.Message}", ex);
        }

        string summary;
        try
        {
            log.Information("Receiving {Set} {Snapshot} ({Links} link(s)) into {Scratch}", set, target, chain.Count, area.DirPath);
            var restorer = new ChainRestorer(source, new TargetDirectory(area.DirPath, tools, "--scratch"), keyFiles, log);
            await restorer.RunAsync(set, target, dryRun: false, TextWriter.Null, cancellationToken);
            var found = path.Resolve(Path.Combine(area.DirPath, target.Value), $"snapshot {target} of set {set}");
            var relative = Path.GetRelativePath(Path.Combine(area.DirPath, target.Value), found);
            var what = Describe(found);
            await CopyIntoPlaceAsync(found, destinationDir, destination, cancellationToken);
            var resolvedText = relative == "." ? "/" : relative;
            summary = $"extracted {NameText.Printable(path.Text, 200)}{(resolvedText == path.Text ? "" : $" (resolved inside the snapshot to {NameText.Printable(resolvedText, 200)})")} from {set} {target} to {NameText.Printable(destination, 200)} ({what})";
        }
        finally
        {
            var leftovers = await area.CleanUpAsync(chain);
            if (leftovers is not null)
            {
                log.Error("extract: {Leftovers}", leftovers);
            }
        }

        await output.WriteLineAsync(summary);
        return 0;
    }

    private async Task<TargetDirectory> RequireScratchAsync(string? scratchDirPath, string destinationDir, CancellationToken cancellationToken)
    {
        if (scratchDirPath is not null)
        {
            var given = new TargetDirectory(scratchDirPath, tools, "--scratch");
            await given.RequireUsableAsync(cancellationToken);
            return given;
        }

        var beside = new TargetDirectory(destinationDir, tools, "--scratch (by default the directory of --to)");
        try
        {
            await beside.RequireUsableAsync(cancellationToken);
        }
        catch (PrerequisiteException ex)
        {
            throw new PrerequisiteException($"{ex.Message}; give --scratch DIR on a btrfs filesystem", ex);
        }

        return beside;
    }

    /// <summary>Copies to a temporary name beside the destination, then renames it into place; a half-made copy is removed.</summary>
    private async Task CopyIntoPlaceAsync(string sourcePath, string destinationDir, string destination, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(destinationDir, $"{TempPrefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        var replaced = false;
        try
        {
            log.Information("Copying {Source} to {Temp}", sourcePath, temp);
            await tools.RunAsync(CopyArgv(sourcePath, temp), cancellationToken: cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            if (Exists(destination))
            {
                Rename(temp, destination, Native.RenameExchange);
                replaced = true;
            }
            else
            {
                Rename(temp, destination, Native.RenameNoReplace);
            }
        }
        finally
        {
            if (Exists(temp))
            {
                var remove = await tools.TryRunAsync(RemoveArgv(temp), cancellationToken: CancellationToken.None);
                if (!remove.IsSuccess)
                {
                    log.Error("extract: {What} {Temp} could not be removed ({Error}); remove it by hand",
                        replaced ? "the replaced destination, now at" : "the unfinished copy", temp, remove.StandardErrorTail.Trim());
                }
            }
        }
    }

    private static void Rename(string fromPath, string toPath, uint flags)
    {
        if (Native.RenameAt2(Native.AtFdCwd, fromPath, Native.AtFdCwd, toPath, flags) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno == Native.EExist)
        {
            throw new RefusedException("exists", $"--to {NameText.Printable(toPath)} appeared while extracting; give --force to replace it");
        }

        throw new StorageException($"rename {NameText.Printable(fromPath)} -> {NameText.Printable(toPath)} failed: {Native.ErrorText(errno)}");
    }

    private async Task<string> RealPathAsync(string path, CancellationToken cancellationToken)
        => (await tools.RunAsync(["realpath", "-e", "--", path], cancellationToken: cancellationToken)).StandardOutput.TrimEnd('\n');

    /// <summary>True when <paramref name="path"/> is <paramref name="dir"/> or below it (both absolute, without symlinks).</summary>
    private static bool IsSameOrInside(string path, string dir)
        => string.Equals(path, dir, StringComparison.Ordinal) || path.StartsWith(dir.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>lstat: true for anything at the path, a dangling symbolic link included.</summary>
    private static bool Exists(string path) => new FileInfo(path).LinkTarget is not null || File.Exists(path) || Directory.Exists(path);

    private static string Describe(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is { } target ? $"symbolic link to {NameText.Printable(target, 200)}"
            : Directory.Exists(path) ? "directory"
            : File.Exists(path) ? $"file, {info.Length} bytes"
            : "special file";
    }
}

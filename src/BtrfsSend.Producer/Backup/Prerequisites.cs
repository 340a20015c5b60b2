using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;

namespace BtrfsSend.Producer.Backup;

/// <summary>Step 2 of a run: everything checked before anything is touched.</summary>
/// <param name="kernelSendVersionFilePath">Where the kernel tells its highest send stream version (SendProtocolProbeTests point it at a test file).</param>
internal sealed class Prerequisites(ToolRunner tools, string kernelSendVersionFilePath = SendProtocol.KernelVersionFilePath)
{
    /// <summary>Checks everything; returns the send protocol this run uses (SEND_PROTO, SEND_COMPRESSED_DATA).</summary>
    public async Task<SendProtocol> CheckAsync(ProducerOptions options, CancellationToken cancellationToken = default)
    {
        var btrfsVersion = await tools.TryRunAsync(["btrfs", "--version"], cancellationToken: cancellationToken);
        if (!btrfsVersion.IsSuccess)
        {
            throw new PrerequisiteException("btrfs is not installed or not on PATH; install btrfs-progs");
        }

        if (options.Compression == Core.Manifests.StreamCompression.Zstd
            && !(await tools.TryRunAsync(["zstd", "--version"], cancellationToken: cancellationToken)).IsSuccess)
        {
            throw new PrerequisiteException("COMPRESSION=zstd needs the zstd program; install the zstd package");
        }

        foreach (var (key, hook) in new[] { ("PRE_SNAPSHOT_HOOK", options.PreSnapshotHook), ("POST_SNAPSHOT_HOOK", options.PostSnapshotHook) })
        {
            const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if (hook.Count > 0 && !(File.Exists(hook[0]) && (File.GetUnixFileMode(hook[0]) & anyExecute) != 0))
            {
                throw new PrerequisiteException($"{key} program {hook[0]} does not exist or is not executable; nothing was stopped or snapshotted");
            }
        }

        var source = SourcePath(options);
        if (!Directory.Exists(options.SourceTopDirPath))
        {
            throw new PrerequisiteException($"SOURCE_TOP {options.SourceTopDirPath} does not exist; mount the top-level btrfs volume there");
        }

        var fsType = await tools.TryRunAsync(["stat", "-f", "-c", "%T", options.SourceTopDirPath], cancellationToken: cancellationToken);
        if (fsType.StandardOutput.Trim() != "btrfs")
        {
            throw new PrerequisiteException($"SOURCE_TOP {options.SourceTopDirPath} is not on btrfs (it is '{fsType.StandardOutput.Trim()}')");
        }

        var show = await tools.TryRunAsync(BtrfsArgv.ShowSubvolume(source), cancellationToken: cancellationToken);
        if (!show.IsSuccess)
        {
            throw new PrerequisiteException($"SOURCE_SUBVOL {options.SourceSubvol} is not a btrfs subvolume under {options.SourceTopDirPath} ({source}): {show.StandardErrorTail.Trim()}");
        }

        var snapshotParent = Directory.Exists(options.SnapshotDirPath) ? options.SnapshotDirPath : Path.GetDirectoryName(options.SnapshotDirPath)!;
        if (!Directory.Exists(snapshotParent))
        {
            throw new PrerequisiteException($"SNAPSHOT_DIR {options.SnapshotDirPath} and its parent do not exist");
        }

        if (await FilesystemUuidAsync(snapshotParent, cancellationToken) != await FilesystemUuidAsync(source, cancellationToken))
        {
            throw new PrerequisiteException($"SNAPSHOT_DIR {options.SnapshotDirPath} is not on the same btrfs filesystem as {source}; snapshots must live on the source filesystem");
        }

        return await ChooseSendProtocolAsync(options, cancellationToken);
    }

    /// <summary>SEND_PROTO=1 needs no probe; 2 and auto read the kernel's stream version and <c>btrfs send --help</c>.</summary>
    public async Task<SendProtocol> ChooseSendProtocolAsync(ProducerOptions options, CancellationToken cancellationToken = default)
    {
        if (options.SendProto == SendProtoSetting.V1)
        {
            return SendProtocol.V1;
        }

        var kernel = SendProtocol.ParseKernelVersion(File.Exists(kernelSendVersionFilePath) ? await File.ReadAllTextAsync(kernelSendVersionFilePath, cancellationToken) : null);
        var help = await tools.TryRunAsync(["btrfs", "send", "--help"], cancellationToken: cancellationToken);
        var text = help.StandardOutput + help.StandardErrorTail;
        return SendProtocol.Choose(options.SendProto, options.SendCompressedData, kernel,
            progsHasProto: text.Contains("--proto", StringComparison.Ordinal),
            progsHasCompressedData: text.Contains("--compressed-data", StringComparison.Ordinal));
    }

    public static string SourcePath(ProducerOptions options) => Path.Combine(options.SourceTopDirPath, options.SourceSubvol);

    /// <summary>
    /// The UUID of the btrfs filesystem holding <paramref name="path"/> (findmnt: the UUID is the
    /// filesystem's, the same for every subvolume, unlike statfs' f_fsid).
    /// </summary>
    private async Task<string> FilesystemUuidAsync(string path, CancellationToken cancellationToken)
    {
        var found = await tools.TryRunAsync(["findmnt", "-n", "-o", "FSTYPE,UUID", "-T", path], cancellationToken: cancellationToken);
        var fields = found.StandardOutput.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return found.IsSuccess && fields.Length >= 2 && fields[0] == "btrfs"
            ? fields[1]
            : throw new PrerequisiteException($"{path} is not on a btrfs filesystem (findmnt: '{found.StandardOutput.Trim()}')");
    }
}

using System.Globalization;
using System.Text;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Producer.Backup;

namespace BtrfsSend.Producer.Restore;

/// <summary>What <c>restore --dry-run</c>, <c>restore --list</c> and <c>verify</c> print: pure text, snapshot-tested.</summary>
internal static class RestoreText
{
    /// <summary>The chain with sizes and what will happen to each link, then the plain gpg | btrfs receive commands.</summary>
    public static string Plan(
        BackupSet set,
        IRestoreSource source,
        IReadOnlyList<RestoreLink> chain,
        IReadOnlyList<TargetLinkState> states,
        string targetDirPath,
        KeyFiles keys)
    {
        var sb = new StringBuilder();
        var total = chain.Sum(l => l.Bytes);
        sb.Append(CultureInfo.InvariantCulture, $"restore {set} {chain[^1].Snapshot} from {source.Description} into {targetDirPath}: {chain.Count} link(s), {ConsoleProgress.HumanBytes(total)} stored\n");
        for (var i = 0; i < chain.Count; i++)
        {
            var link = chain[i];
            var action = states[i].Kind switch
            {
                TargetLinkKind.Absent => "receive",
                TargetLinkKind.Present => "skip: " + states[i].Detail,
                _ => "REFUSE: " + states[i].Detail,
            };
            sb.Append(CultureInfo.InvariantCulture, $"  {i + 1}/{chain.Count}  {link.Snapshot}  {KindText(link)}  {ConsoleProgress.HumanBytes(link.Bytes)} ({link.Bytes} bytes)  {action}\n");
        }

        sb.Append("by hand, with only gpg and btrfs-progs, in this order:\n");
        if (!source.HasManifests)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  # first copy these files from BACKUP_ROOT/{set}/ on the backup server into the current directory\n");
            sb.Append("  # and check each with sha256sum against the stream_sha256 in its .manifest\n");
            sb.Append("  # a stream whose manifest says compression=zstd needs '| zstd -d' between gpg and btrfs receive\n");
        }

        sb.Append("  set -o pipefail\n");
        foreach (var line in keys.ByHandSetup())
        {
            sb.Append("  ").Append(line).Append('\n');
        }

        for (var i = 0; i < chain.Count; i++)
        {
            var link = chain[i];
            if (states[i].Kind == TargetLinkKind.Present)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  # {link.Snapshot} is already in {targetDirPath}\n");
                continue;
            }

            var file = source.ByHandFilePath(link);
            if (source.ByHandFetch(link) is { } fetch)
            {
                sb.Append("  ").Append(fetch).Append('\n');
            }

            if (link.Manifest is { } manifest)
            {
                sb.Append(CultureInfo.InvariantCulture, $"  echo {Argv.Quote($"{manifest.StreamSha256}  {file}")} | sha256sum -c\n");
            }

            var unzstd = link.IsDeclaredZstd ? $" | {Argv.Render(["zstd", "-d"])}" : "";
            sb.Append(CultureInfo.InvariantCulture, $"  {keys.ByHandDecrypt(file)}{unzstd} | {Argv.Render(["btrfs", "receive", "--chroot", targetDirPath])}\n");
        }

        sb.Append("  # if a command fails, delete the subvolume it left in the target (btrfs subvolume delete DIR/NAME) and stop: gpg writes plaintext before its integrity check\n");
        return sb.ToString();
    }

    /// <summary>Every stored snapshot with its chain length and size, or why it cannot be restored.</summary>
    public static string List(BackupSet set, IRestoreSource source, IReadOnlyList<RestorableSnapshot> snapshots)
    {
        var sb = new StringBuilder();
        var restorable = snapshots.Count(s => s.IsRestorable);
        sb.Append(CultureInfo.InvariantCulture, $"set {set} at {source.Description}: {snapshots.Count} stored stream(s), {restorable} restorable\n");
        foreach (var s in snapshots)
        {
            sb.Append(s.Chain is { } chain
                ? string.Create(CultureInfo.InvariantCulture, $"  {s.Link.Snapshot}  {KindText(s.Link)}  chain {chain.Count} link(s), {ConsoleProgress.HumanBytes(s.ChainBytes)}\n")
                : string.Create(CultureInfo.InvariantCulture, $"  {s.Link.Snapshot}  {KindText(s.Link)}  NOT RESTORABLE: {s.BrokenReason}\n"));
        }

        return sb.ToString();
    }

    public static string VerifyOk(LinkResult result) => string.Create(CultureInfo.InvariantCulture,
        $"OK    {result.Link.Snapshot}  {KindText(result.Link)}  {ConsoleProgress.HumanBytes(result.Link.Bytes)} stored, {ConsoleProgress.HumanBytes(result.PlaintextBytes)} send stream, {result.Commands} commands, {(result.Binding is null ? "UNBOUND (no set/snapshot binding; accepted with --allow-unbound)" : result.IsSignatureVerified ? "bound, signed" : "bound")}");

    public static string VerifyFail(string snapshot, string reason) => $"FAIL  {NameText.Printable(snapshot)}  {reason}";

    private static string KindText(RestoreLink link) => link.Parent is { } parent ? $"incremental on {parent}" : "full";
}

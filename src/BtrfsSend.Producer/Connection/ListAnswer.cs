using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Producer.Connection;

/// <summary>
/// The receiver's answer to <c>list</c>, read as strictly as the receiver reads commands: every
/// line must parse (<see cref="ListEntryLine"/> refuses control characters, CR included, and
/// malformed tokens), no line may be longer than <see cref="MaxLineLength"/>, and no snapshot may
/// appear twice. Anything else is one clear <see cref="TransferFailedException"/> line naming what
/// was wrong — a hostile or broken server must never crash a restore with an internal error.
/// </summary>
internal static class ListAnswer
{
    /// <summary>Far above the longest valid line (two names, a size, a time and two tokens).</summary>
    public const int MaxLineLength = 1024;

    public static IReadOnlyList<ListEntryLine> Parse(string stdout, BackupSet set)
    {
        var entries = new List<ListEntryLine>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            number++;
            if (line.Length > MaxLineLength)
            {
                throw new TransferFailedException($"the receiver's list of {set} has a line longer than {MaxLineLength} characters (line {number}); allowed: one '<snapshot> full|incremental <parent>|- <bytes> <received_at>' line per stored snapshot");
            }

            var entry = ListEntryLine.Parse(line);
            if (entry.Value is null)
            {
                throw new TransferFailedException($"the receiver's list of {set} has a line this producer cannot read (line {number}): {entry.Error}");
            }

            if (!seen.Add(entry.Value.Snapshot.Value))
            {
                throw new TransferFailedException($"the receiver's list of {set} names snapshot {entry.Value.Snapshot} twice (line {number}); a receiver lists each stored snapshot once: refusing to trust this list");
            }

            entries.Add(entry.Value);
        }

        return entries;
    }
}

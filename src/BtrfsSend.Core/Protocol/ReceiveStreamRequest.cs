using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// <c>receive-stream &lt;set&gt; &lt;snapshot&gt; full</c> or
/// <c>receive-stream &lt;set&gt; &lt;snapshot&gt; incremental &lt;parent&gt;</c> (encrypted-stream):
/// stdin is the BSF1-framed encrypted stream.
/// </summary>
public sealed record ReceiveStreamRequest : Request
{
    public const string VerbText = "receive-stream";
    public const string FullText = "full";
    public const string IncrementalText = "incremental";

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="parent"/> is given exactly for an incremental and obeys the parent rule.</summary>
    public ReceiveStreamRequest(BackupSet set, SnapshotName snapshot, bool isIncremental, SnapshotName? parent)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(snapshot);
        if (isIncremental != parent is not null)
        {
            throw new ArgumentException(isIncremental ? "an incremental needs a parent" : "a full stream has no parent", nameof(parent));
        }

        if (parent is not null)
        {
            ParentRule.Require(snapshot, parent);
        }

        Set = set;
        Snapshot = snapshot;
        IsIncremental = isIncremental;
        Parent = parent;
    }

    public BackupSet Set { get; }

    public SnapshotName Snapshot { get; }

    public bool IsIncremental { get; }

    public SnapshotName? Parent { get; }

    /// <summary>What the producer declares about the stream (manifest fields the receiver cannot measure).</summary>
    public StreamDeclaration Declared { get; init; } = StreamDeclaration.None;

    public override string Verb => VerbText;

    public override string ToCommandLine() => string.Join(' ', (IsIncremental
        ? new[] { VerbText, Set.Value, Snapshot.Value, IncrementalText, Parent!.Value }
        : [VerbText, Set.Value, Snapshot.Value, FullText]).Concat(Declared.ToTokens()));
}

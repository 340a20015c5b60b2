using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>
/// <c>receive &lt;set&gt; &lt;snapshot&gt; [&lt;parent&gt;]</c> (remote-btrfs): stdin is the BSF1-framed raw
/// send stream, piped into <c>btrfs receive</c>.
/// </summary>
public sealed record ReceiveRequest : Request
{
    public const string VerbText = "receive";

    /// <summary>Throws <see cref="ArgumentException"/> if <paramref name="parent"/> breaks the parent rule.</summary>
    public ReceiveRequest(BackupSet set, SnapshotName snapshot, SnapshotName? parent)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(snapshot);
        if (parent is not null)
        {
            ParentRule.Require(snapshot, parent);
        }

        Set = set;
        Snapshot = snapshot;
        Parent = parent;
    }

    public BackupSet Set { get; }

    public SnapshotName Snapshot { get; }

    public SnapshotName? Parent { get; }

    public bool IsIncremental => Parent is not null;

    /// <summary>What the producer declares about the stream (uuid, proto, version).</summary>
    public StreamDeclaration Declared { get; init; } = StreamDeclaration.None;

    public override string Verb => VerbText;

    public override string ToCommandLine() => string.Join(' ', (Parent is null
        ? new[] { VerbText, Set.Value, Snapshot.Value }
        : [VerbText, Set.Value, Snapshot.Value, Parent.Value]).Concat(Declared.ToTokens()));
}

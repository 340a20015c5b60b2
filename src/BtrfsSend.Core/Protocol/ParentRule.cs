using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Protocol;

/// <summary>What makes a snapshot an acceptable parent of another for an incremental.</summary>
internal static class ParentRule
{
    public const string Text = "the parent must have the same prefix as the snapshot and an earlier time";

    /// <summary>Why <paramref name="parent"/> cannot be the parent of <paramref name="snapshot"/>, or null.</summary>
    public static string? Problem(SnapshotName snapshot, SnapshotName parent)
    {
        if (parent.Equals(snapshot))
        {
            return $"parent '{parent.Value}' is the snapshot itself; {Text}";
        }

        if (!string.Equals(parent.Prefix, snapshot.Prefix, StringComparison.Ordinal))
        {
            return $"parent '{parent.Value}' has prefix '{parent.Prefix}', the snapshot has '{snapshot.Prefix}'; {Text}";
        }

        if (parent.TimestampUtc >= snapshot.TimestampUtc)
        {
            return $"parent '{parent.Value}' is not earlier than snapshot '{snapshot.Value}'; {Text}";
        }

        return null;
    }

    public static void Require(SnapshotName snapshot, SnapshotName parent)
    {
        var problem = Problem(snapshot, parent);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(parent));
        }
    }
}

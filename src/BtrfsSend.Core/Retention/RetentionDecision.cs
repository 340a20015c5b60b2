namespace BtrfsSend.Core.Retention;

/// <summary>Keep or delete one item, with every reason (so <c>prune --dry-run</c> can say exactly why).</summary>
public sealed record RetentionDecision(string Id, DateTimeOffset Time, bool Keep, IReadOnlyList<string> Reasons);

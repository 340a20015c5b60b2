namespace BtrfsSend.Core.Retention;

/// <summary>
/// One thing retention decides about. <see cref="Id"/> is the snapshot name. <see cref="Time"/> is
/// the time that puts it in a period: on backup-srv the receiver's own <c>received_at</c> from the
/// manifest, never the time in the client-chosen name (docs/retention.md); on prod-srv the local
/// snapshot's time.
/// </summary>
public sealed record RetentionItem(string Id, DateTimeOffset Time);

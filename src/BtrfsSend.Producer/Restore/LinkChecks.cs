using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// What a link's bound metadata (docs/stream-format.md) must say, checked before anything of the
/// link reaches btrfs receive: the set, the link's own name, kind and parent, and — when known —
/// the parent's snapshot UUID (from the previous link's binding, or the target's received_uuid).
/// </summary>
/// <param name="AllowUnbound">Accept streams without a binding (made before streams were bound), and unsigned streams in public-key mode.</param>
/// <param name="RequireSignature">Public-key mode: the stream must be signed by the verify key.</param>
/// <param name="ExpectedParentUuid">The parent's snapshot UUID the link's bound parent UUID must equal, or null when not known.</param>
internal sealed record LinkChecks(BackupSet Set, bool AllowUnbound, bool RequireSignature, string? ExpectedParentUuid = null);

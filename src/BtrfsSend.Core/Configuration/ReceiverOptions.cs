using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// The receiver's validated settings (<c>/etc/default/btrfs-backup-receive</c> plus environment,
/// as backup-prune-btrfs-streams.sh's cron line passes them). Built only by <see cref="ConfigLoader.LoadReceiver"/>.
/// </summary>
public sealed record ReceiverOptions
{
    public const string DefaultBackupRootDirPath = "/mnt/sdb1/btrfs-send-backups";

    /// <summary>BACKUP_ROOT: where encrypted streams are stored.</summary>
    public string BackupRootDirPath { get; init; } = DefaultBackupRootDirPath;

    /// <summary>BACKUP_SET: the set backup-prune-btrfs-streams.sh's cron line names; null when not given.</summary>
    public BackupSet? BackupSet { get; init; }

    /// <summary>KEEP_*: the server's retention policy; empty = delete nothing.</summary>
    public RetentionPolicy Keep { get; init; } = RetentionPolicy.Empty;

    public string? LuksDevicePath { get; init; }

    public string? LuksName { get; init; }

    public string? LuksMountDirPath { get; init; }

    public string? ReceivedRootDirPath { get; init; }

    /// <summary>
    /// LUKS_TOOLS_DIR: where <c>cryptsetup</c>, <c>mount</c> and <c>umount</c> are taken from for the
    /// LUKS session; null = the names as sudo's secure_path finds them. Tests point it at fakes.
    /// </summary>
    public string? LuksToolsDirPath { get; init; }

    /// <summary>LUKS_LEASE: a LUKS session open longer than this is closed by the receiver; default 6h.</summary>
    public TimeSpan LuksLease { get; init; } = TimeSpan.FromHours(6);

    /// <summary>MAX_STREAM_SIZE: bytes; default 1T.</summary>
    public long MaxStreamSize { get; init; } = 1L << 40;

    /// <summary>MIN_FREE_SPACE: bytes that must stay free; default 1G.</summary>
    public long MinFreeSpace { get; init; } = 1L << 30;

    /// <summary>MAX_CLOCK_SKEW: snapshot names further than this from the receiver's clock are refused; default 24h.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromHours(24);

    /// <summary>ALLOW_GET: whether the read-only <c>get</c> verb is served; default yes.</summary>
    public bool AllowGet { get; init; } = true;

    public string? LogFilePath { get; init; }

    /// <summary>IDLE_TIMEOUT_SECONDS: a client that sends nothing for this long is cut off; default 120 s.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>MAX_UPLOADS_PER_DAY: per set, uploads committed in the last 24 h beyond which receive-stream is refused; 0 = no cap; default 48.</summary>
    public int MaxUploadsPerDay { get; init; } = 48;

    /// <summary>S3_*: the offsite copy in an S3-compatible bucket; null when S3_BUCKET is unset.</summary>
    public ObjectStoreOptions? ObjectStore { get; init; }

    /// <summary>CLIENT_&lt;name&gt;=prefix ...: each client's allowed set prefixes; empty = every set allowed.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ClientSetPrefixes { get; init; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

    /// <summary>
    /// Whether <paramref name="client"/> may touch <paramref name="set"/>. With no CLIENT_ keys every
    /// set is allowed (the shell scripts had no map). Otherwise an unknown or missing client gets nothing, and a
    /// set is allowed when it equals one of the client's prefixes or starts with one that ends in '/'.
    /// </summary>
    public bool IsSetAllowed(string? client, BackupSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (ClientSetPrefixes.Count == 0)
        {
            return true;
        }

        if (client is null || !ClientSetPrefixes.TryGetValue(client, out var prefixes))
        {
            return false;
        }

        return prefixes.Any(p => set.Value == p || (p.EndsWith('/') && set.Value.StartsWith(p, StringComparison.Ordinal)));
    }

    /// <summary>
    /// Whether <paramref name="client"/> is allowed at least one set: what <c>open-luks</c> and
    /// <c>close-luks</c>, which name no set, require. With no CLIENT_ keys every client is.
    /// </summary>
    public bool IsAnySetAllowed(string? client)
        => ClientSetPrefixes.Count == 0
            || (client is not null && ClientSetPrefixes.TryGetValue(client, out var prefixes) && prefixes.Count > 0);

    public bool Equals(ReceiverOptions? other) =>
        other is not null
        && (BackupRootDirPath, BackupSet, Keep, LuksDevicePath, LuksName, LuksMountDirPath, ReceivedRootDirPath, LuksToolsDirPath)
            == (other.BackupRootDirPath, other.BackupSet, other.Keep, other.LuksDevicePath, other.LuksName, other.LuksMountDirPath, other.ReceivedRootDirPath, other.LuksToolsDirPath)
        && (LuksLease, MaxStreamSize, MinFreeSpace, MaxClockSkew, AllowGet, LogFilePath, IdleTimeout, MaxUploadsPerDay)
            == (other.LuksLease, other.MaxStreamSize, other.MinFreeSpace, other.MaxClockSkew, other.AllowGet, other.LogFilePath, other.IdleTimeout, other.MaxUploadsPerDay)
        && ObjectStore == other.ObjectStore
        && ClientSetPrefixes.Count == other.ClientSetPrefixes.Count
        && ClientSetPrefixes.All(kv => other.ClientSetPrefixes.TryGetValue(kv.Key, out var o) && o.SequenceEqual(kv.Value));

    public override int GetHashCode() => HashCode.Combine(BackupRootDirPath, BackupSet, Keep, ClientSetPrefixes.Count);
}

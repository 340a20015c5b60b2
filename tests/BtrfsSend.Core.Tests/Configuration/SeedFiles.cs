namespace BtrfsSend.Core.Tests.Configuration;

/// <summary>The shell scripts' config files (prod.conf, /etc/default/btrfs-backup-receive), verbatim as their README gives them.</summary>
internal static class SeedFiles
{
    public const string ProdConf = """
        SOURCE_TOP=/mnt/btrfs-root
        SOURCE_SUBVOL=@rootfs
        SNAPSHOT_DIR=/mnt/btrfs-root/@backup-snapshots
        SNAPSHOT_PREFIX=prod-srv-rootfs
        STATE_FILE=/var/lib/btrfs-send-backup/last-sent
        BACKUP_SSH_TARGET=btrfs-ingest@backup-srv
        # Optional. Leave empty for the default SSH port 22.
        BACKUP_SSH_PORT=
        # Optional. Set this when cron/root should use a dedicated backup key.
        BACKUP_SSH_IDENTITY_FILE=
        BACKUP_SET=prod-srv/rootfs
        PASSPHRASE_FILE=/root/.config/btrfs-send-backup/passphrase
        BACKUP_MODE=encrypted-stream
        FULL_INTERVAL_DAYS=32
        LOCAL_KEEP_DAILY=7
        LOCAL_KEEP_WEEKLY=4
        LOCAL_KEEP_MONTHLY=12
        # Keep this list explicit. Include databases and application services whose
        # files must be transactionally quiet while the btrfs snapshot is created.
        SERVICES_TO_QUIESCE=(nginx php8.2-fpm mysql postgresql redis-server)

        """;

    /// <summary>"For the LUKS-backed receive mode, use this instead:" lines from the shell scripts' README.</summary>
    public const string RemoteBtrfsLines = """
        BACKUP_MODE=remote-btrfs
        LUKS_KEY_FILE=/root/.config/btrfs-send-backup/luks-key
        FULL_INTERVAL_DAYS=36500

        """;

    public const string ReceiverDefaults = """
        LUKS_DEVICE=/dev/sdb1
        LUKS_NAME=btrfs_backup
        LUKS_MOUNT=/mnt/btrfs-backup
        RECEIVED_ROOT=/mnt/btrfs-backup/received
        KEEP_DAILY=7
        KEEP_WEEKLY=4
        KEEP_MONTHLY=12

        """;

    /// <summary>The environment backup-prune-btrfs-streams.sh's /etc/cron.d/btrfs-backup-prune line sets.</summary>
    public static readonly Dictionary<string, string?> PruneCronEnvironment = new()
    {
        ["BACKUP_ROOT"] = "/mnt/sdb1/btrfs-send-backups",
        ["BACKUP_SET"] = "prod-srv/rootfs",
        ["KEEP_DAILY"] = "7",
        ["KEEP_WEEKLY"] = "4",
        ["KEEP_MONTHLY"] = "12",
        ["PATH"] = "/usr/bin:/bin",
        ["HOME"] = "/root",
    };
}

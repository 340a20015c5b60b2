using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// The producer's validated settings (prod.conf). Built only by
/// <see cref="ConfigLoader.LoadProducer"/>; every value here has passed its rule.
/// </summary>
public sealed record ProducerOptions
{
    /// <summary>SOURCE_TOP: where the top-level btrfs volume is mounted.</summary>
    public required string SourceTopDirPath { get; init; }

    /// <summary>SOURCE_SUBVOL: the subvolume to back up, relative to SOURCE_TOP (e.g. <c>@rootfs</c>).</summary>
    public required string SourceSubvol { get; init; }

    /// <summary>SNAPSHOT_DIR: where read-only snapshots are created.</summary>
    public required string SnapshotDirPath { get; init; }

    /// <summary>SNAPSHOT_PREFIX: the snapshot name prefix.</summary>
    public required string SnapshotPrefix { get; init; }

    /// <summary>STATE_FILE: records the last snapshot sent successfully.</summary>
    public required string StateFilePath { get; init; }

    /// <summary>LOCK_FILE: default STATE_FILE + ".lock".</summary>
    public required string LockFilePath { get; init; }

    /// <summary>LEDGER_FILE: every acknowledged upload, appended (docs/ledger.md); default STATE_FILE + ".ledger".</summary>
    public required string LedgerFilePath { get; init; }

    /// <summary>BACKUP_SSH_TARGET: <c>[user@]host</c>.</summary>
    public required string SshTarget { get; init; }

    /// <summary>BACKUP_SSH_PORT: empty means 22.</summary>
    public int SshPort { get; init; } = 22;

    /// <summary>BACKUP_SSH_IDENTITY_FILE: null means ssh's default keys.</summary>
    public string? SshIdentityFilePath { get; init; }

    /// <summary>SSH_CIPHER: passed as <c>ssh -c</c>; null means ssh's default.</summary>
    public string? SshCipher { get; init; }

    /// <summary>BACKUP_SET.</summary>
    public required BackupSet BackupSet { get; init; }

    /// <summary>BACKUP_MODE: default encrypted-stream.</summary>
    public BackupMode Mode { get; init; } = BackupMode.EncryptedStream;

    /// <summary>PASSPHRASE_FILE: symmetric encryption key (mode 0600/0400); null when unused.</summary>
    public string? PassphraseFilePath { get; init; }

    /// <summary>RECIPIENT_KEY_FILE: OpenPGP public key; when set, streams are encrypted to it instead of the passphrase.</summary>
    public string? RecipientKeyFilePath { get; init; }

    /// <summary>SIGNING_KEY_FILE: the producer's Ed25519 signing key (keygen; mode 0600/0400); required with RECIPIENT_KEY_FILE.</summary>
    public string? SigningKeyFilePath { get; init; }

    /// <summary>VERIFY_KEY_FILE: the signing key's public half, for restore, verify and the drill in public-key mode.</summary>
    public string? VerifyKeyFilePath { get; init; }

    /// <summary>LUKS_KEY_FILE: the key sent to <c>open-luks</c> (remote-btrfs; mode 0600/0400).</summary>
    public string? LuksKeyFilePath { get; init; }

    /// <summary>FULL_INTERVAL_DAYS: a full stream when the last full is older than this; default 32.</summary>
    public int FullIntervalDays { get; init; } = 32;

    /// <summary>
    /// IDLE_TIMEOUT_SECONDS: how long the producer waits for the receiver to say anything (the
    /// hello and list answers, the bytes of a <c>get</c>) before giving up; default 120.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// BWLIMIT: bytes per second the producer moves at most — the stream going to ssh in a run,
    /// the stored bytes read in restore and verify; null (unset or 0) means no limit.
    /// </summary>
    public long? BandwidthLimit { get; init; }

    /// <summary>LOCAL_KEEP_*: retention of local snapshots; empty = delete none.</summary>
    public RetentionPolicy LocalKeep { get; init; } = RetentionPolicy.Empty;

    /// <summary>SERVICES_TO_QUIESCE: systemd units stopped around the snapshot.</summary>
    public IReadOnlyList<string> ServicesToQuiesce { get; init; } = [];

    /// <summary>
    /// SERVICES_MAY_RUN: units of SERVICES_TO_QUIESCE whose snapshot may be taken while they run
    /// (a failed stop is then a warning, not an abort); empty = every listed unit must be stopped.
    /// </summary>
    public IReadOnlyList<string> ServicesMayRun { get; init; } = [];

    /// <summary>COMPRESSION: default none.</summary>
    public StreamCompression Compression { get; init; } = StreamCompression.None;

    /// <summary>
    /// QUIESCE_TIMEOUT_SECONDS (default 300, 10..86400): the longest the services may stay stopped;
    /// at this deadline the quiesce guard restarts them whatever the producer is doing.
    /// </summary>
    public int QuiesceTimeoutSeconds { get; init; } = 300;

    /// <summary>SEND_PROTO: 1 (default), 2 or auto (2 when kernel and btrfs-progs support it).</summary>
    public SendProtoSetting SendProto { get; init; } = SendProtoSetting.V1;

    /// <summary>SEND_COMPRESSED_DATA: <c>btrfs send --compressed-data</c> when protocol 2 is used; default no.</summary>
    public bool SendCompressedData { get; init; }

    /// <summary>PRE_SNAPSHOT_HOOK: argv run before the snapshot (argv[0] absolute); empty = none.</summary>
    public IReadOnlyList<string> PreSnapshotHook { get; init; } = [];

    /// <summary>POST_SNAPSHOT_HOOK: argv run after the snapshot (argv[0] absolute); empty = none.</summary>
    public IReadOnlyList<string> PostSnapshotHook { get; init; } = [];

    /// <summary>SSH_OPTIONS: extra <c>ssh -o Key=value</c> options (bash array), e.g. a dedicated known_hosts file.</summary>
    public IReadOnlyList<string> SshOptions { get; init; } = [];

    /// <summary>
    /// CANARY_FILE: a path relative to the source subvolume (validated: no '..', not absolute, no
    /// control characters). Before each snapshot the producer writes the snapshot name and a random
    /// token there; <c>verify --restore-test</c> compares it with the manifest's canary_token. Null = off.
    /// </summary>
    public string? CanaryFilePath { get; init; }

    /// <summary>Encryption the producer will apply, derived from mode and key files.</summary>
    public StreamEncryption Encryption =>
        Mode == BackupMode.RemoteBtrfs ? StreamEncryption.None
        : RecipientKeyFilePath is not null ? StreamEncryption.OpenPgpPubkey
        : StreamEncryption.OpenPgpSymmetric;

    public bool Equals(ProducerOptions? other) =>
        other is not null
        && EqualityContract == other.EqualityContract
        && Scalars().Equals(other.Scalars())
        && ServicesToQuiesce.SequenceEqual(other.ServicesToQuiesce)
        && ServicesMayRun.SequenceEqual(other.ServicesMayRun)
        && PreSnapshotHook.SequenceEqual(other.PreSnapshotHook)
        && PostSnapshotHook.SequenceEqual(other.PostSnapshotHook)
        && SshOptions.SequenceEqual(other.SshOptions);

    public override int GetHashCode() => HashCode.Combine(SourceTopDirPath, SnapshotPrefix, BackupSet, ServicesToQuiesce.Count);

    private object Scalars() => (
        (SourceTopDirPath, SourceSubvol, SnapshotDirPath, SnapshotPrefix, StateFilePath, LockFilePath, SshTarget),
        (SshPort, SshIdentityFilePath, SshCipher, BackupSet, Mode, PassphraseFilePath, RecipientKeyFilePath),
        (LuksKeyFilePath, FullIntervalDays, LocalKeep, Compression, CanaryFilePath, LedgerFilePath, SendProto, SendCompressedData, QuiesceTimeoutSeconds, IdleTimeout),
        BandwidthLimit);
}

namespace BtrfsSend.Core.Configuration;

/// <summary>BACKUP_MODE: the two storage modes (docs/architecture.md).</summary>
public enum BackupMode
{
    /// <summary><c>encrypted-stream</c>: OpenPGP-encrypted send streams stored as opaque files.</summary>
    EncryptedStream,

    /// <summary><c>remote-btrfs</c>: streams received into a LUKS volume the producer unlocks.</summary>
    RemoteBtrfs,
}

namespace BtrfsSend.Producer.Restore;

/// <summary>One link that decrypted (MDC verified) and validated (END, every CRC32C).</summary>
internal sealed record LinkResult(RestoreLink Link, long PlaintextBytes, long Commands)
{
    /// <summary>The UUID of the subvolume the stream creates (its SUBVOL/SNAPSHOT command), when read.</summary>
    public string? SubvolumeUuid { get; init; }

    /// <summary>For an incremental: the parent UUID the stream names (clone_uuid of its SNAPSHOT command).</summary>
    public string? ParentUuid { get; init; }
}

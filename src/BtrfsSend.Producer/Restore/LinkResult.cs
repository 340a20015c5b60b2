namespace BtrfsSend.Producer.Restore;

/// <summary>One link that decrypted (MDC verified) and validated (END, every CRC32C).</summary>
/// <param name="Binding">The stream's binding (checked against the chain), or null for an unbound stream accepted with --allow-unbound.</param>
/// <param name="IsSignatureVerified">True when the producer's signature was checked against the verify key.</param>
internal sealed record LinkResult(RestoreLink Link, long PlaintextBytes, long Commands, Core.Binding.StreamBinding? Binding = null, bool IsSignatureVerified = false)
{
    /// <summary>The UUID of the subvolume the stream creates (its SUBVOL/SNAPSHOT command), when read.</summary>
    public string? SubvolumeUuid { get; init; }

    /// <summary>For an incremental: the parent UUID the stream names (clone_uuid of its SNAPSHOT command).</summary>
    public string? ParentUuid { get; init; }
}

namespace BtrfsSend.Producer.Restore;

/// <summary>One link that decrypted (MDC verified) and validated (END, every CRC32C).</summary>
internal sealed record LinkResult(RestoreLink Link, long PlaintextBytes, long Commands);

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// Where stored streams come from: a directory of streams and manifests (<see cref="DirectorySource"/>),
/// the receiver's read-only <c>get</c> over ssh (<see cref="SshSource"/>), or the offsite copy in
/// a bucket (<see cref="S3Source"/>).
/// </summary>
internal interface IRestoreSource
{
    /// <summary>For messages: the directory, or <c>user@host (over ssh)</c>.</summary>
    string Description { get; }

    /// <summary>True when each link carries its manifest (size checked before decrypting, SHA-256 while decrypting).</summary>
    bool HasManifests { get; }

    /// <summary>Every stored stream of the set, ordered by snapshot name.</summary>
    Task<IReadOnlyList<RestoreLink>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Checks what can be checked without reading the stream (its size); throws <see cref="Core.Errors.IntegrityException"/>.</summary>
    Task PreverifyAsync(RestoreLink link, IProgress<long>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands the stored bytes of <paramref name="link"/> to <paramref name="consume"/>. The stream
    /// reports EOF only after the source's own end checks passed (byte count, and the manifest's
    /// SHA-256 or the receiver's BSF1 trailer); <see cref="CheckedEndStream.EnsureEndAsync"/> runs them.
    /// </summary>
    Task ReadAsync(RestoreLink link, Func<CheckedEndStream, CancellationToken, Task> consume, IProgress<long>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>The file name a by-hand restore uses for <paramref name="link"/>.</summary>
    string ByHandFilePath(RestoreLink link);

    /// <summary>The shell command a by-hand restore runs first to fetch <see cref="ByHandFilePath"/>, or null when the file is at hand.</summary>
    string? ByHandFetch(RestoreLink link) => null;
}

using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Storage;

/// <summary>
/// One upload into a set, begun by <see cref="StreamStore.BeginUpload"/> under the set's lock: the
/// bytes go to <see cref="Temp"/> (a temp file unique to this upload, 0600, unbuffered), and only
/// <see cref="CommitAsync"/> makes them a backup: fsync, 0400 root:root, no-replace rename of the
/// stream, directory fsync, then the manifest the same way; a manifest that cannot be written
/// withdraws the stream committed a moment before. Disposing deletes the temp file, so a failed or
/// abandoned upload leaves nothing; after a SIGKILL the temp file (named <see cref="DurableFiles.TempPrefix"/>…,
/// which no listing takes for a stored file) stays until <see cref="StreamStore.DeleteStaleTemps"/>.
/// </summary>
public sealed class UploadTransaction : IAsyncDisposable
{
    private readonly BackupSet _set;
    private readonly SnapshotName _snapshot;
    private readonly StreamKind _kind;
    private readonly Action<string, Exception>? _couldNotDelete;
    private bool _committed;

    internal UploadTransaction(string dirPath, BackupSet set, SnapshotName snapshot, StreamKind kind, Action<string, Exception>? couldNotDelete)
    {
        _set = set;
        _snapshot = snapshot;
        _kind = kind;
        _couldNotDelete = couldNotDelete;
        StreamFilePath = Path.Combine(dirPath, StoredFileName.StreamFileName(snapshot, kind));
        ManifestFilePath = Path.Combine(dirPath, StoredFileName.ManifestFileName(snapshot));
        TempFilePath = DurableFiles.TempPathFor(dirPath, Path.GetFileName(StreamFilePath));
        Temp = DurableFiles.CreateTemp(TempFilePath);
    }

    /// <summary>Where the stream is committed.</summary>
    public string StreamFilePath { get; }

    /// <summary>Where its manifest is committed.</summary>
    public string ManifestFilePath { get; }

    /// <summary>The temp file the bytes go to until the commit.</summary>
    public string TempFilePath { get; }

    /// <summary>
    /// The temp file, created exclusively and without a buffer of its own: write the stream here
    /// and flush it to disk before <see cref="CommitAsync"/>.
    /// </summary>
    public FileStream Temp { get; }

    /// <summary>
    /// Commits the stream and then <paramref name="manifest"/> (which must describe this upload);
    /// from its return on, the upload is a backup whatever happens to the client. On any failure
    /// nothing of this upload is left under a stored name, and the exception propagates (an
    /// existing name is <see cref="Errors.RefusedException"/> <c>exists</c>: never replaced).
    /// </summary>
    public async Task CommitAsync(Manifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Set != _set || manifest.Snapshot != _snapshot || manifest.Kind != _kind)
        {
            throw new ArgumentException($"the manifest names {manifest.Set}/{manifest.Snapshot} ({manifest.Kind}), but this upload is {_set}/{_snapshot} ({_kind})", nameof(manifest));
        }

        if (_committed)
        {
            throw new InvalidOperationException($"{_set}/{_snapshot} is already committed");
        }

        await Temp.DisposeAsync();
        DurableFiles.Commit(TempFilePath, StreamFilePath);
        try
        {
            DurableFiles.WriteNew(ManifestFilePath, System.Text.Encoding.UTF8.GetBytes(ManifestWriter.Render(manifest)));
        }
        catch
        {
            // The set's lock is held: withdraw the stream committed a moment ago, so nothing
            // half-done is left looking like a backup.
            TryDelete(StreamFilePath);
            throw;
        }

        _committed = true;
    }

    /// <summary>Closes and deletes the temp file (gone already after a commit).</summary>
    public async ValueTask DisposeAsync()
    {
        await Temp.DisposeAsync();
        TryDelete(TempFilePath);
    }

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _couldNotDelete?.Invoke(path, ex);
        }
    }
}

using System.Globalization;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.Core.Streams;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// Streams and manifests in a directory: <c>PATH/&lt;set&gt;/</c> (a BACKUP_ROOT or a copy of it)
/// or <c>PATH</c> itself (a copy of one set's directory). Read as strictly as the receiver reads
/// its store. Each file is read once: its size is checked against its manifest before it is
/// opened for decryption, its count and SHA-256 while it is decrypted, before the held-back END
/// reaches btrfs receive.
/// </summary>
internal sealed class DirectorySource : IRestoreSource
{
    /// <summary>No FileStream buffer: the read-ahead (<see cref="CheckedEndStream"/>) reads in large slots itself, and a buffer would add a copy.</summary>
    private const int BufferSize = 0;
    private readonly SetContents _contents;
    private long _storedBytesRead;

    public DirectorySource(string path, BackupSet set, ILogger log)
    {
        var full = Path.GetFullPath(path);
        if (!Directory.Exists(full))
        {
            throw new PrerequisiteException($"--from {NameText.Printable(path)}: no such directory");
        }

        var setDir = Path.Combine([full, .. set.Segments]);
        DirPath = Directory.Exists(setDir) ? setDir : full;
        _contents = StreamStore.ReadDirectory(DirPath, set);
        foreach (var problem in _contents.Problems)
        {
            log.Warning("{Problem}", problem);
        }

        foreach (var orphan in _contents.OrphanFilePaths)
        {
            log.Warning("{File}: stream file without a manifest; it is not used", orphan);
        }
    }

    /// <summary>The directory actually read (the set's directory).</summary>
    public string DirPath { get; }

    public string Description => DirPath;

    public bool HasManifests => true;

    public Task<IReadOnlyList<RestoreLink>> ListAsync(CancellationToken cancellationToken = default)
        => Task.FromResult<IReadOnlyList<RestoreLink>>(_contents.Streams.Select(s => RestoreLink.From(s.Manifest)).ToList());

    /// <summary>BWLIMIT / --bwlimit: the stored bytes are read at most this fast (bytes per second); null: no limit.</summary>
    public long? ReadLimit { get; init; }

    /// <summary>Stored bytes read from the stream files so far, in every pass (how restore and verify prove a single read).</summary>
    public long StoredBytesRead => Interlocked.Read(ref _storedBytesRead);

    /// <summary>The size on disk against the manifest, without reading the file (its SHA-256 is checked while it is decrypted).</summary>
    public Task PreverifyAsync(RestoreLink link, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        long size;
        try
        {
            size = new FileInfo(FilePath(link)).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"cannot read {FilePath(link)}: {ex.Message}", ex);
        }

        return size == link.Bytes
            ? Task.CompletedTask
            : throw new IntegrityException(string.Create(CultureInfo.InvariantCulture, $"{FilePath(link)} is {size} bytes, but its manifest records {link.Bytes} (modified or truncated)"));
    }

    public async Task ReadAsync(RestoreLink link, Func<CheckedEndStream, CancellationToken, Task> consume, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var file = Open(link);
        await using var limited = BandwidthLimitedStream.Wrap(file, ReadLimit, TimeProvider.System);
        await using var check = new CheckedEndStream(limited, link.Bytes, link.Manifest!.StreamSha256, $"{FilePath(link)}", progress);
        try
        {
            await consume(check, cancellationToken);
            await check.EnsureEndAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is BtrfsSendException)
        {
            var explained = await check.ExplainAsync(ex, cancellationToken);
            if (!ReferenceEquals(explained, ex))
            {
                throw explained;
            }

            throw;
        }
        finally
        {
            Interlocked.Add(ref _storedBytesRead, check.BytesRead);
        }
    }

    public string ByHandFilePath(RestoreLink link) => FilePath(link);

    private string FilePath(RestoreLink link) => Path.Combine(DirPath, link.StreamFileName);

    private FileStream Open(RestoreLink link)
    {
        try
        {
            return new FileStream(FilePath(link), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"cannot read {FilePath(link)}: {ex.Message}", ex);
        }
    }
}

using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// Streams and manifests in a directory: <c>PATH/&lt;set&gt;/</c> (a BACKUP_ROOT or a copy of it)
/// or <c>PATH</c> itself (a copy of one set's directory). Read as strictly as the receiver reads
/// its store. Every file's size and SHA-256 are checked against its manifest before it is
/// decrypted, and again while it streams (the file could change in between).
/// </summary>
internal sealed class DirectorySource : IRestoreSource
{
    private const int BufferSize = 1024 * 1024;
    private readonly SetContents _contents;

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

    public async Task PreverifyAsync(RestoreLink link, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var file = Open(link);
        await using var check = new CheckedEndStream(file, link.Bytes, link.Manifest!.StreamSha256, $"{FilePath(link)}", progress);
        await check.EnsureEndAsync(cancellationToken);
    }

    public async Task ReadAsync(RestoreLink link, Func<CheckedEndStream, CancellationToken, Task> consume, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        await using var file = Open(link);
        await using var check = new CheckedEndStream(file, link.Bytes, link.Manifest!.StreamSha256, $"{FilePath(link)}", progress);
        await consume(check, cancellationToken);
        await check.EnsureEndAsync(cancellationToken);
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

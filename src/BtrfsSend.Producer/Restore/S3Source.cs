using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.ObjectStore;
using BtrfsSend.Core.Processes;
using Serilog;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// Streams and manifests straight from an S3-compatible bucket (the offsite copy
/// <c>btrfs-backup-receive replicate</c> writes, docs/offsite.md), for a restore when the backup
/// server is gone. Read-only: it lists the set's keys and GETs objects, nothing else, so
/// credentials that may only list and read suffice. Everything the bucket says is hostile until
/// checked: the listing (<see cref="S3SetListing"/>), each manifest (read as strictly as from a
/// directory, at most <see cref="ManifestReader.MaxBytes"/>), and each stream, whose listed and
/// served size must be its manifest's before a byte is read, and whose count and SHA-256 are
/// checked while it streams (<see cref="CheckedEndStream"/>) — before the held-back END reaches
/// btrfs receive. A stream is downloaded once, straight from the GET response into the
/// pipeline: no temporary file, memory bounded by the pipeline's buffers.
/// </summary>
internal sealed class S3Source : IRestoreSource
{
    /// <summary>Manifest GETs in flight at once.</summary>
    private const int ManifestParallelism = 4;

    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly BackupSet _set;
    private readonly TimeSpan _idleTimeout;
    private readonly ILogger _log;
    private readonly string _setKeyPrefix;
    private readonly ObjectStoreOptions _store;
    private IReadOnlyList<RestoreLink>? _links;
    private IReadOnlyDictionary<string, long> _listedBytes = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <param name="client">A client for <paramref name="store"/> (<see cref="ObjectStoreClient"/>).</param>
    /// <param name="idleTimeout">A GET that delivers no byte for this long fails (IDLE_TIMEOUT_SECONDS).</param>
    public S3Source(IAmazonS3 client, ObjectStoreOptions store, BackupSet set, TimeSpan idleTimeout, ILogger log)
    {
        _client = client;
        _store = store;
        _bucket = store.Bucket;
        _set = set;
        _idleTimeout = idleTimeout;
        _log = log;
        _setKeyPrefix = new ObjectLayout(store.Prefix).SetPrefix(set);
        Description = $"s3://{_bucket}/{_setKeyPrefix} ({(store.Endpoint is { } endpoint ? endpoint.GetLeftPart(UriPartial.Authority) : "AWS " + store.Region)})";
    }

    public string Description { get; }

    public bool HasManifests => true;

    public async Task<IReadOnlyList<RestoreLink>> ListAsync(CancellationToken cancellationToken = default)
    {
        if (_links is null)
        {
            var listing = await ListKeysAsync(cancellationToken);
            var manifests = await ReadManifestsAsync(listing, cancellationToken);
            var links = new List<RestoreLink>();
            var claimed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (key, manifest, problem) in manifests)
            {
                if (manifest is null)
                {
                    _log.Warning("{Problem}", problem);
                    continue;
                }

                claimed.Add(manifest.StreamFile);
                if (!listing.Streams.ContainsKey(manifest.StreamFile))
                {
                    _log.Warning("{Key}: its stream object {Stream} is missing", Url(key), manifest.StreamFile);
                    continue;
                }

                links.Add(RestoreLink.From(manifest));
            }

            foreach (var orphan in listing.Streams.Keys.Where(n => !claimed.Contains(n)).Order(StringComparer.Ordinal))
            {
                _log.Warning("{Key}: stream object without a manifest; it is not used", Url(_setKeyPrefix + orphan));
            }

            _listedBytes = listing.Streams;
            _links = links;
        }

        return _links;
    }

    /// <summary>
    /// The stream object's listed size against its manifest, before anything is downloaded. Its
    /// SHA-256 is checked while it streams, so the object is read once (a second download would
    /// double the time and the provider's egress charge of a disaster restore).
    /// </summary>
    public Task PreverifyAsync(RestoreLink link, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!_listedBytes.TryGetValue(link.StreamFileName, out var listed))
        {
            throw new IntegrityException($"{Url(StreamKey(link))} is not in the bucket's listing");
        }

        if (listed != link.Bytes)
        {
            throw new IntegrityException(string.Create(CultureInfo.InvariantCulture,
                $"{Url(StreamKey(link))} is {listed} bytes in the bucket, but its manifest records {link.Bytes} (modified or replaced)"));
        }

        return Task.CompletedTask;
    }

    public async Task ReadAsync(RestoreLink link, Func<CheckedEndStream, CancellationToken, Task> consume, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var key = StreamKey(link);
        await PreverifyAsync(link, null, cancellationToken);
        using var response = await GetAsync(key, cancellationToken);
        if (response.ContentLength != link.Bytes)
        {
            throw new IntegrityException(string.Create(CultureInfo.InvariantCulture,
                $"{Url(key)}: the server sends {response.ContentLength} bytes, but its manifest records {link.Bytes} (modified or replaced)"));
        }

        await using var body = new S3ResponseStream(response.ResponseStream, _idleTimeout, Url(key));
        await using var limited = Core.Streams.BandwidthLimitedStream.Wrap(body, ReadLimit, TimeProvider.System);
        await using var check = new CheckedEndStream(limited, link.Bytes, link.Manifest!.StreamSha256, Url(key), progress);
        try
        {
            await consume(check, cancellationToken);
            await check.EnsureEndAsync(cancellationToken);
        }
        catch (BtrfsSendException ex)
        {
            var explained = await check.ExplainAsync(ex, cancellationToken);
            if (!ReferenceEquals(explained, ex))
            {
                throw explained;
            }

            throw;
        }
    }

    /// <summary>BWLIMIT / --bwlimit: the object is downloaded at most this fast (bytes per second); null: no limit.</summary>
    public long? ReadLimit { get; init; }

    /// <summary>A by-hand restore downloads each object under its file name first (the dry run says how).</summary>
    public string ByHandFilePath(RestoreLink link) => link.StreamFileName;

    /// <summary>The AWS command-line tool's download of the stream object (Debian: awscli), with the same endpoint, region and credentials.</summary>
    public string? ByHandFetch(RestoreLink link)
    {
        string[] endpoint = _store.Endpoint is { } uri ? ["--endpoint-url", uri.GetLeftPart(UriPartial.Path).TrimEnd('/')] : [];
        return $"AWS_SHARED_CREDENTIALS_FILE={Argv.Quote(_store.CredentialsFilePath)} "
            + Argv.Render(["aws", .. endpoint, "--region", _store.Region, "s3", "cp", "--only-show-errors", Url(StreamKey(link)), link.StreamFileName]);
    }

    private string StreamKey(RestoreLink link) => _setKeyPrefix + link.StreamFileName;

    private string Url(string key) => $"s3://{_bucket}/{key}";

    private async Task<S3SetListing> ListKeysAsync(CancellationToken cancellationToken)
    {
        var listing = new S3SetListing(_setKeyPrefix, $"s3://{_bucket}/{_setKeyPrefix}");
        string? token = null;
        do
        {
            var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = _setKeyPrefix, Delimiter = "/", ContinuationToken = token };
            ListObjectsV2Response response;
            try
            {
                response = await _client.ListObjectsV2Async(request, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ObjectStoreErrors.TryDescribe(ex, _store, $"listing s3://{_bucket}/{_setKeyPrefix}") is { } mapped)
            {
                throw mapped;
            }

            foreach (var entry in response.S3Objects ?? [])
            {
                listing.Add(entry.Key, entry.Size);
            }

            var truncated = response.IsTruncated == true;
            listing.AddPage(truncated, response.NextContinuationToken);
            token = truncated ? response.NextContinuationToken : null;
        }
        while (token is not null);

        return listing;
    }

    private async Task<(string Key, Manifest? Manifest, string? Problem)[]> ReadManifestsAsync(S3SetListing listing, CancellationToken cancellationToken)
    {
        var manifests = listing.Manifests;
        var results = new (string, Manifest?, string?)[manifests.Count];
        await Parallel.ForAsync(0, manifests.Count, new ParallelOptions { MaxDegreeOfParallelism = ManifestParallelism, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var (snapshot, key, bytes) = manifests[i];
            results[i] = (key, null, null);
            if (S3SetListing.ManifestSizeProblem(bytes) is { } tooLarge)
            {
                results[i] = (key, null, $"{Url(key)} {tooLarge}; it is not read");
                return;
            }

            byte[] text;
            try
            {
                text = await ReadSmallAsync(key, token);
            }
            catch (IntegrityException ex)
            {
                results[i] = (key, null, ex.Message); // gone since it was listed: as if it had not been listed
                return;
            }

            if (text.Length > ManifestReader.MaxBytes)
            {
                results[i] = (key, null, $"{Url(key)}: manifest is more than {ManifestReader.MaxBytes} bytes");
                return;
            }

            var parsed = ManifestReader.Parse(text, Url(key));
            if (!parsed.IsValid)
            {
                results[i] = (key, null, string.Join("; ", parsed.Errors));
                return;
            }

            var manifest = parsed.Manifest!;
            results[i] = manifest.Set != _set || manifest.Snapshot != snapshot
                ? (key, null, $"{Url(key)}: manifest says set '{manifest.Set}' snapshot '{manifest.Snapshot}', but the object is {_set}/{snapshot}.manifest")
                : (key, manifest, null);
        });
        return results;
    }

    /// <summary>The first <see cref="ManifestReader.MaxBytes"/> + 1 bytes of an object, whatever size the server claims.</summary>
    private async Task<byte[]> ReadSmallAsync(string key, CancellationToken cancellationToken)
    {
        using var response = await GetAsync(key, cancellationToken);
        var buffer = new byte[ManifestReader.MaxBytes + 1];
        var total = 0;
        await using var body = new S3ResponseStream(response.ResponseStream, _idleTimeout, Url(key));
        int n;
        while (total < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += n;
        }

        return buffer[..total];
    }

    private async Task<GetObjectResponse> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ObjectStoreErrors.TryDescribe(ex, _store, $"reading {Url(key)}") is { } mapped)
        {
            throw mapped;
        }
    }
}

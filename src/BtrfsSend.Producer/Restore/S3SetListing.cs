using System.Globalization;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// One set's objects as a bucket lists them, read as hostile input: pages are added as they
/// arrive and every entry is checked before it is counted. A listing the layout cannot produce
/// (a key outside the prefix asked for, a key twice, a size that is missing or negative, more
/// objects or pages than any real set holds, a page that promises more without saying where)
/// throws <see cref="IntegrityException"/>. Keys that are not a stored file's name (and keys of
/// nested sets, below a further '/') are ignored, as a directory's foreign files are.
/// </summary>
internal sealed class S3SetListing(string setKeyPrefix, string what)
{
    /// <summary>Objects one set may list: hourly backups kept for ten years are about 175,000.</summary>
    public const int MaxObjects = 200_000;

    /// <summary>Pages one listing may take (servers return up to 1,000 keys a page).</summary>
    public const int MaxPages = 2_000;

    private readonly Dictionary<string, long> _streams = new(StringComparer.Ordinal);
    private readonly List<(SnapshotName Snapshot, string Key, long Bytes)> _manifests = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _tokens = new(StringComparer.Ordinal);
    private int _pages;

    /// <summary>The key prefix of the set (ends with '/').</summary>
    public string SetKeyPrefix { get; } = setKeyPrefix;

    /// <summary>Every manifest object named like one, ordered by snapshot name.</summary>
    public IReadOnlyList<(SnapshotName Snapshot, string Key, long Bytes)> Manifests
        => _manifests.OrderBy(m => m.Snapshot.Value, StringComparer.Ordinal).ToList();

    /// <summary>Stream objects by file name (the part of the key after <see cref="SetKeyPrefix"/>), with their listed size.</summary>
    public IReadOnlyDictionary<string, long> Streams => _streams;

    /// <summary>Objects listed so far.</summary>
    public int Count => _keys.Count;

    /// <summary>
    /// Counts one page and checks where it says the next one starts: null when the page is the
    /// last. A truncated page without a token, or a token seen before (a loop), is refused.
    /// </summary>
    public void AddPage(bool isTruncated, string? nextToken)
    {
        if (++_pages > MaxPages)
        {
            throw new IntegrityException($"the listing of {what} takes more than {MaxPages} pages; refused (no set holds that many objects)");
        }

        if (!isTruncated)
        {
            return;
        }

        if (string.IsNullOrEmpty(nextToken))
        {
            throw new IntegrityException($"the listing of {what} says it is truncated but gives no continuation token; refused");
        }

        if (!_tokens.Add(nextToken))
        {
            throw new IntegrityException($"the listing of {what} repeats a continuation token (it would never end); refused");
        }
    }

    /// <summary>Checks and records one listed object.</summary>
    public void Add(string? key, long? bytes)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new IntegrityException($"the listing of {what} holds an object without a key; refused");
        }

        if (!key.StartsWith(SetKeyPrefix, StringComparison.Ordinal))
        {
            throw new IntegrityException($"the listing of {what} holds the key '{NameText.Printable(key)}', which is outside the prefix asked for; refused");
        }

        if (!_keys.Add(key))
        {
            throw new IntegrityException($"the listing of {what} holds the key '{NameText.Printable(key)}' twice; refused");
        }

        if (_keys.Count > MaxObjects)
        {
            throw new IntegrityException($"the listing of {what} holds more than {MaxObjects} objects; refused (no set holds that many)");
        }

        if (bytes is not { } size || size < 0)
        {
            throw new IntegrityException(string.Create(CultureInfo.InvariantCulture,
                $"the listing of {what} gives the key '{NameText.Printable(key)}' the size {(bytes is null ? "(none)" : bytes.Value)}; refused"));
        }

        var name = key[SetKeyPrefix.Length..];
        if (name.Contains('/', StringComparison.Ordinal) || StoredFileName.TryParse(name) is not { } stored)
        {
            return; // a nested set's object, or not ours
        }

        if (stored.IsManifest)
        {
            _manifests.Add((stored.Snapshot, key, size));
        }
        else
        {
            _streams[name] = size;
        }
    }

    /// <summary>Why a listed manifest object is not read at all (too large to be one), or null.</summary>
    public static string? ManifestSizeProblem(long bytes) => bytes > ManifestReader.MaxBytes
        ? string.Create(CultureInfo.InvariantCulture, $"is {bytes} bytes; a manifest is at most {ManifestReader.MaxBytes}")
        : null;
}

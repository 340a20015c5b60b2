using System.Globalization;
using System.Text;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Offsite;

/// <summary>
/// What <c>replicate</c> has finished, per set: the root-only file <c>&lt;set dir&gt;/.offsite</c>,
/// appended and fsynced after each stream's objects were written and checked back. One line per fact:
/// <code>
/// done  TARGET  SNAPSHOT  STREAM_BYTES  STREAM_ETAG  RETAIN_UNTIL|-  RECORDED_AT
/// bucket  TARGET  locked|unlocked  RECORDED_AT
/// </code>
/// (fields separated by one tab). TARGET is <see cref="Core.Configuration.ObjectStoreOptions.Target"/>, so
/// pointing the config at another bucket or prefix starts over. A torn last line (a run killed while
/// appending) is ignored: its stream is simply copied again.
/// </summary>
internal sealed class OffsiteRecord
{
    public const string FileName = ".offsite";

    private readonly Dictionary<string, OffsiteCopy> _done = new(StringComparer.Ordinal);

    private OffsiteRecord(string filePath, string target)
    {
        FilePath = filePath;
        Target = target;
    }

    public string FilePath { get; }

    public string Target { get; }

    /// <summary>Whether the last replicate found the bucket with Object Lock; null = never recorded.</summary>
    public bool? BucketLocked { get; private set; }

    public DateTimeOffset? BucketCheckedAt { get; private set; }

    public bool IsDone(string snapshot) => _done.ContainsKey(snapshot);

    public OffsiteCopy? Done(string snapshot) => _done.GetValueOrDefault(snapshot);

    public IReadOnlyCollection<OffsiteCopy> AllDone => _done.Values;

    public static OffsiteRecord Read(StreamStore store, Core.Naming.BackupSet set, string target)
    {
        ArgumentNullException.ThrowIfNull(store);
        var record = new OffsiteRecord(Path.Combine(store.SetDirPath(set), FileName), target);
        if (!File.Exists(record.FilePath))
        {
            return record;
        }

        foreach (var line in File.ReadLines(record.FilePath))
        {
            var f = line.Split('\t');
            if (f.Length == 7 && f[0] == "done" && f[1] == target
                && long.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
                && DateTimeOffset.TryParse(f[6], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                DateTimeOffset? until = f[5] == "-" ? null
                    : DateTimeOffset.TryParse(f[5], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var u) ? u : null;
                record._done[f[2]] = new OffsiteCopy(f[2], bytes, f[4], until, at);
            }
            else if (f.Length == 4 && f[0] == "bucket" && f[1] == target && f[2] is "locked" or "unlocked"
                && DateTimeOffset.TryParse(f[3], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var checkedAt))
            {
                record.BucketLocked = f[2] == "locked";
                record.BucketCheckedAt = checkedAt;
            }
        }

        return record;
    }

    public void MarkDone(OffsiteCopy done)
    {
        ArgumentNullException.ThrowIfNull(done);
        Append($"done\t{Target}\t{done.Snapshot}\t{done.StreamBytes.ToString(CultureInfo.InvariantCulture)}\t{done.StreamETag}\t{(done.RetainUntil is { } u ? Iso(u) : "-")}\t{Iso(done.RecordedAt)}\n");
        _done[done.Snapshot] = done;
    }

    /// <summary>Treats <paramref name="snapshot"/> as not copied for the rest of this run (its offsite copy was found changed).</summary>
    public void Forget(string snapshot) => _done.Remove(snapshot);

    public void MarkBucket(bool locked, DateTimeOffset now)
    {
        if (BucketLocked == locked)
        {
            return;
        }

        Append($"bucket\t{Target}\t{(locked ? "locked" : "unlocked")}\t{Iso(now)}\n");
        BucketLocked = locked;
        BucketCheckedAt = now;
    }

    private void Append(string line)
    {
        using var file = new FileStream(FilePath, new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        file.Write(Encoding.UTF8.GetBytes(line));
        file.Flush(flushToDisk: true);
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

}

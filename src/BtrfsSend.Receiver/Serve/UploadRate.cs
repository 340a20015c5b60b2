using System.Globalization;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;

namespace BtrfsSend.Receiver.Serve;

/// <summary>
/// The receiver's own record of uploads refused by MAX_UPLOADS_PER_DAY: one root-only (0600) file
/// per set, <c>&lt;set dir&gt;/.refused-uploads</c>, one line <c>yyyy-MM-ddTHH:mm:ssZ &lt;snapshot&gt;</c>
/// appended per refusal. Uploads that were stored need no record: their manifests' received_at
/// are the count. <c>check</c> reads both to warn about a client that tries too much.
/// </summary>
internal static class UploadRate
{
    public const string RefusedFileName = ".refused-uploads";

    /// <summary>How far back MAX_UPLOADS_PER_DAY and check's anomaly warnings look.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public static string RefusedFilePath(string setDirPath) => Path.Combine(setDirPath, RefusedFileName);

    public static void RecordRefusal(string setDirPath, SnapshotName snapshot, DateTimeOffset at)
    {
        var line = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + " " + snapshot.Value + "\n";
        var options = new FileStreamOptions
        {
            Mode = FileMode.Append,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var file = new FileStream(RefusedFilePath(setDirPath), options);
        file.Write(System.Text.Encoding.ASCII.GetBytes(line));
    }

    /// <summary>Refusals recorded at or after <paramref name="since"/>; an unreadable or malformed line is skipped.</summary>
    public static int CountRefusedSince(string setDirPath, DateTime since)
    {
        var path = RefusedFilePath(setDirPath);
        if (!File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            return 0;
        }

        var count = 0;
        foreach (var line in File.ReadLines(path))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && DateTime.TryParseExact(line[..space], "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) && t >= since)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Streams of <paramref name="contents"/> received at or after <paramref name="since"/>.</summary>
    public static int CountStoredSince(SetContents contents, DateTime since)
        => contents.Streams.Count(s => s.Manifest.ReceivedAtUtc >= since);
}

using System.Globalization;
using System.Text;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using Serilog;

namespace BtrfsSend.Producer.Backup;

/// <summary>
/// STATE_FILE with <see cref="Suffix"/> appended: the send-stream bytes (what the progress line
/// counts) of the last acknowledged full and incremental stream of this configuration, one line per
/// kind (<c>full &lt;bytes&gt;</c>, <c>incremental &lt;bytes&gt;</c>). Only the ETA's estimate reads it, so
/// a missing or unreadable file is "no estimate", never an error; written after STATE_FILE.
/// </summary>
internal sealed class LastStreamSizes(string filePath)
{
    public const string Suffix = ".sizes";

    public string FilePath { get; } = filePath;

    public static LastStreamSizes Of(StateFile state) => new(state.FilePath + Suffix);

    /// <summary>The recorded bytes of the last stream of that kind, or null when none is (readably) recorded.</summary>
    public long? Read(bool isIncremental) => ReadAll().TryGetValue(Kind(isIncremental), out var bytes) ? bytes : null;

    /// <summary>Records <paramref name="bytes"/> for the kind, keeping the other kind's record.</summary>
    public void Write(bool isIncremental, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var all = ReadAll();
        all[Kind(isIncremental)] = bytes;
        var text = string.Concat(new[] { ListEntryLine.FullText, ListEntryLine.IncrementalText }
            .Where(all.ContainsKey)
            .Select(k => string.Create(CultureInfo.InvariantCulture, $"{k} {all[k]}\n")));
        DurableFiles.Replace(FilePath, Encoding.ASCII.GetBytes(text), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>
    /// <see cref="Write"/> after an acknowledged upload: a failure only costs the next run's ETA
    /// estimate, so it is a warning in <paramref name="log"/>, never an error.
    /// </summary>
    public void TryWrite(bool isIncremental, long sendStreamBytes, ILogger log)
    {
        try
        {
            Write(isIncremental, sendStreamBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            log.Warning("could not record the stream's size in {Path} ({Message}); the next run's progress has no ETA estimate", FilePath, ex.Message);
        }
    }

    private static string Kind(bool isIncremental) => isIncremental ? ListEntryLine.IncrementalText : ListEntryLine.FullText;

    private Dictionary<string, long> ReadAll()
    {
        var all = new Dictionary<string, long>(StringComparer.Ordinal);
        string text;
        try
        {
            var info = new FileInfo(FilePath);
            if (!info.Exists || info.Length > 4096)
            {
                return all;
            }

            text = File.ReadAllText(FilePath, Encoding.ASCII);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return all;
        }

        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && parts[0] is ListEntryLine.FullText or ListEntryLine.IncrementalText
                && parts[1] is [>= '1' and <= '9', ..] && parts[1].All(char.IsAsciiDigit)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes))
            {
                all[parts[0]] = bytes;
            }
        }

        return all;
    }
}

using System.Runtime.InteropServices;
using System.Text;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using Microsoft.Win32.SafeHandles;

namespace BtrfsSend.Core.Ledger;

/// <summary>
/// The producer's append-only record of every upload the receiver acknowledged (LEDGER_FILE,
/// docs/ledger.md). A line is appended with one write through <c>O_APPEND</c> and fsynced
/// before the state file changes; the file is never rewritten or truncated by this program.
/// It must be a regular file (never a symlink: opened with <c>O_NOFOLLOW</c>) without any
/// group or other permission bits, owned by root or the invoking user; it is created 0600.
/// </summary>
public sealed class UploadLedger(string filePath)
{
    /// <summary>The permission bits a ledger may have: owner read and write only.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const int OWrOnly = 1;
    private const int OAppend = 0x400;
    private const int ELoop = 40;

    public string FilePath { get; } = filePath;

    public bool Exists => File.Exists(FilePath) || IsSymlink();

    /// <summary>
    /// Throws <see cref="LedgerException"/> when the file exists but is a symlink, not a regular
    /// file, readable or writable by group or others, or ends in a cut line (no final LF). A
    /// missing file is fine: the first append creates it.
    /// </summary>
    public void CheckUsable()
    {
        if (IsSymlink())
        {
            throw new LedgerException($"LEDGER_FILE {FilePath} is a symlink; allowed: a regular file, mode 0600 (a ledger is never followed through a link)");
        }

        if (!File.Exists(FilePath))
        {
            if (Directory.Exists(FilePath))
            {
                throw new LedgerException($"LEDGER_FILE {FilePath} is a directory; allowed: a regular file, mode 0600");
            }

            return;
        }

        var mode = File.GetUnixFileMode(FilePath);
        if ((mode & ~Mode) != 0 || (mode & UnixFileMode.UserWrite) == 0)
        {
            throw new LedgerException($"LEDGER_FILE {FilePath} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}; allowed: 0600 (owner read and write only); fix with chmod 0600");
        }

        // Whoever owns the file can rewrite the history it keeps, whatever its mode.
        uint owner;
        try
        {
            owner = FileOwner.UidOf(FilePath);
        }
        catch (IOException ex)
        {
            throw new LedgerException($"LEDGER_FILE {FilePath}: {ex.Message}");
        }

        var self = FileOwner.EffectiveUid;
        if (owner != self && owner != 0)
        {
            throw new LedgerException($"LEDGER_FILE {FilePath} is owned by uid {owner}; allowed: owned by root or by the user running btrfs-send-backup (uid {self}), as another owner could rewrite it; fix with chown");
        }

        using var stream = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (stream.Length > 0)
        {
            stream.Seek(-1, SeekOrigin.End);
            if (stream.ReadByte() != '\n')
            {
                throw new LedgerException($"LEDGER_FILE {FilePath} ends in a cut line (no final newline; a write was interrupted): remove that last partial line by hand, nothing else");
            }
        }
    }

    /// <summary>Appends <paramref name="record"/> as one line and fsyncs it (and the directory when the file is new).</summary>
    public void Append(LedgerRecord record)
    {
        CheckUsable();
        var dir = Path.GetDirectoryName(Path.GetFullPath(FilePath))!;
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var isNew = !File.Exists(FilePath);
        var fd = Native.OpenWithMode(FilePath, OWrOnly | OAppend | Native.OCreat | Native.ONoFollow | Native.OCloexec, (int)Mode);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new LedgerException(errno == ELoop
                ? $"LEDGER_FILE {FilePath} is a symlink; allowed: a regular file, mode 0600"
                : $"cannot open LEDGER_FILE {FilePath} for appending: {Native.ErrorText(errno)}");
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var line = Encoding.ASCII.GetBytes(record.Render() + "\n");
        try
        {
            using (var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0))
            {
                stream.Write(line);
                if (Native.Fsync(fd) != 0)
                {
                    throw new IOException($"fsync: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
                }
            }
        }
        catch (IOException ex)
        {
            throw new Errors.StorageException($"cannot append to LEDGER_FILE {FilePath}: {ex.Message}");
        }

        if (isNew)
        {
            DurableFiles.FsyncDirectory(dir);
        }
    }

    /// <summary>Every record, in file order; a missing file is empty. Throws <see cref="LedgerException"/> naming the first bad line.</summary>
    public IReadOnlyList<LedgerRecord> Read()
    {
        CheckUsable();
        return File.Exists(FilePath) ? Parse(File.ReadAllText(FilePath, Encoding.Latin1), FilePath) : [];
    }

    /// <summary>The newest record of <paramref name="set"/> (latest snapshot time, then latest line), or null.</summary>
    public static LedgerRecord? NewestOf(IEnumerable<LedgerRecord> records, BackupSet set)
        => records.Where(r => r.Set == set).Select((r, i) => (r, i))
            .OrderBy(p => p.r.Snapshot.TimestampUtc).ThenBy(p => p.i)
            .Select(p => p.r).LastOrDefault();

    /// <summary>Parses a whole ledger text; <paramref name="name"/> prefixes errors, which carry the 1-based line number.</summary>
    public static IReadOnlyList<LedgerRecord> Parse(string text, string name)
    {
        var records = new List<LedgerRecord>();
        if (text.Length == 0)
        {
            return records;
        }

        var lines = text.Split('\n');
        if (lines[^1].Length != 0)
        {
            throw new LedgerException($"{name} line {lines.Length}: the last line has no final newline (a cut write); remove it by hand");
        }

        for (var i = 0; i < lines.Length - 1; i++)
        {
            var check = LedgerRecord.Parse(lines[i]);
            if (check.Value is null)
            {
                throw new LedgerException($"{name} line {i + 1}: {check.Error}");
            }

            records.Add(check.Value);
        }

        return records;
    }

    private bool IsSymlink()
    {
        try
        {
            return new FileInfo(FilePath).LinkTarget is not null;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

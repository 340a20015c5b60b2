using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Producer.Restore;

/// <summary>
/// <c>extract</c>'s PATH, hostile input: a path inside a snapshot, absolute (from the snapshot's
/// root) or relative to that root. No <c>..</c> segment, no control character, at most
/// <see cref="MaxLength"/> bytes; empty and <c>.</c> segments are dropped, so <c>/</c> is the
/// whole snapshot. <see cref="Resolve"/> finds it inside a received snapshot without leaving it.
/// </summary>
internal sealed record SnapshotPath
{
    /// <summary>PATH_MAX less the terminating NUL.</summary>
    public const int MaxLength = 4095;

    /// <summary>Symbolic links followed while resolving one path, as the kernel's limit (ELOOP).</summary>
    public const int MaxSymlinks = 40;

    private SnapshotPath(IReadOnlyList<string> segments) => Segments = segments;

    /// <summary>The path's names from the snapshot's root; empty for the root itself.</summary>
    public IReadOnlyList<string> Segments { get; }

    /// <summary>As printed: relative to the snapshot's root, <c>/</c> for the root.</summary>
    public string Text => Segments.Count == 0 ? "/" : string.Join('/', Segments);

    public static NameCheck<SnapshotPath> Check(string? text)
    {
        const string Allowed = "allowed: a path inside the snapshot, absolute (from the snapshot's root) or relative to it, without '..'";
        if (string.IsNullOrEmpty(text))
        {
            return NameCheck<SnapshotPath>.Fail($"PATH is empty; {Allowed}");
        }

        if (text.Any(char.IsControl))
        {
            return NameCheck<SnapshotPath>.Fail($"PATH '{NameText.Printable(text)}' contains a control character; {Allowed}");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(text) > MaxLength)
        {
            return NameCheck<SnapshotPath>.Fail($"PATH is longer than {MaxLength} bytes; {Allowed}");
        }

        var segments = text.Split('/').Where(s => s is not ("" or ".")).ToList();
        if (segments.Contains(".."))
        {
            return NameCheck<SnapshotPath>.Fail($"PATH '{NameText.Printable(text)}' has a '..' segment; {Allowed}");
        }

        return NameCheck<SnapshotPath>.Ok(new SnapshotPath(segments));
    }

    public static SnapshotPath Parse(string text)
    {
        var check = Check(text);
        return check.Value ?? throw new ArgumentException(check.Error, nameof(text));
    }

    /// <summary>
    /// The path on disk of this path inside the snapshot at <paramref name="rootPath"/>, resolved as
    /// if the snapshot were the root filesystem: a symbolic link on the way (not the last name,
    /// which is copied as the link itself) is followed inside the snapshot, an absolute target
    /// from the snapshot's root. A target whose <c>..</c> climbs above the root, more than
    /// <see cref="MaxSymlinks"/> links, or a name that is not there is refused with
    /// <see cref="RefusedException"/>: nothing outside the snapshot is ever named.
    /// </summary>
    public string Resolve(string rootPath, string snapshotDescription)
    {
        var pending = new LinkedList<string>(Segments);
        var resolved = new List<string>();
        var links = 0;
        while (pending.First is { } first)
        {
            var name = first.Value;
            pending.RemoveFirst();
            if (name is "" or ".")
            {
                continue;
            }

            if (name == "..")
            {
                if (resolved.Count == 0)
                {
                    throw new RefusedException("escape", $"{Text} leaves {snapshotDescription}: a symbolic link on the way climbs above the snapshot's root with '..'; refused, nothing was copied");
                }

                resolved.RemoveAt(resolved.Count - 1);
                continue;
            }

            var candidate = Path.Combine([rootPath, .. resolved, name]);
            var info = new FileInfo(candidate);
            var isLast = pending.First is null;
            if (info.LinkTarget is { } target && !isLast)
            {
                if (++links > MaxSymlinks)
                {
                    throw new RefusedException("escape", $"{Text} in {snapshotDescription} goes through more than {MaxSymlinks} symbolic links; refused, nothing was copied");
                }

                if (target.StartsWith('/'))
                {
                    resolved.Clear();
                }

                foreach (var part in target.Split('/').Reverse())
                {
                    pending.AddFirst(part);
                }

                continue;
            }

            var exists = info.LinkTarget is not null || File.Exists(candidate) || Directory.Exists(candidate);
            if (!exists || (!isLast && !Directory.Exists(candidate)))
            {
                var at = string.Join('/', resolved.Append(name));
                var detail = string.Equals(at, Text, StringComparison.Ordinal) ? "" : $" ({(exists ? "not a directory" : "no such file or directory")}: {NameText.Printable(at, 200)})";
                throw new RefusedException("not-found", $"{NameText.Printable(Text, 200)} is not in {snapshotDescription}{detail}; nothing was copied");
            }

            resolved.Add(name);
        }

        return Path.Combine([rootPath, .. resolved]);
    }
}

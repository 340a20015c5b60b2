using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Manifests;

/// <summary>
/// Tolerant reader of the manifests the shell scripts wrote beside their streams
/// (docs/migration.md): <c>key=value</c> lines, keys in any case, blank lines and <c>#</c> comments
/// skipped, values trimmed and unquoted, unknown keys ignored. The snapshot, parent and kind are
/// looked for under every name the scripts may have used for them. Every value is checked as
/// strictly as a name on the wire: a name that is not <c>&lt;prefix&gt;-&lt;yyyyMMddTHHmmssZ&gt;</c>
/// (a path, <c>..</c>, control characters) is ignored with a note, never used.
/// </summary>
public static class LegacyManifestReader
{
    /// <summary>The scripts' manifests are a few lines; anything larger is not one.</summary>
    public const int MaxBytes = 64 * 1024;

    public static readonly string[] SnapshotKeys = ["snapshot", "snapshot_name", "snapshot-name", "snap", "name", "subvolume", "subvol"];

    public static readonly string[] ParentKeys = ["parent", "parent_snapshot", "parent-snapshot", "parent_name", "parent-name", "base", "incremental_from"];

    public static readonly string[] KindKeys = ["kind", "type", "mode", "send_type", "stream_type", "stream_kind"];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static LegacyManifest Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            return Unreadable($"it is {bytes.Length} bytes, more than the {MaxBytes} a manifest of the scripts can be");
        }

        if (bytes.Contains((byte)0))
        {
            return Unreadable("it contains NUL bytes (binary, not text)");
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes.StartsWith("\uFEFF"u8) ? bytes[3..] : bytes);
        }
        catch (DecoderFallbackException)
        {
            return Unreadable("it is not UTF-8 text");
        }

        var notes = new List<string>();
        var found = new Dictionary<string, (string Key, string Value, int Line)>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                notes.Add($"line {lineNo}: '{NameText.Printable(Cut(line))}' is not key=value; ignored");
                continue;
            }

            var key = line[..eq].Trim();
            if (key.StartsWith("export ", StringComparison.Ordinal))
            {
                key = key[7..].Trim();
            }

            key = key.ToLowerInvariant();
            var value = Unquote(line[(eq + 1)..].Trim());
            var role = SnapshotKeys.Contains(key) ? "snapshot" : ParentKeys.Contains(key) ? "parent" : KindKeys.Contains(key) ? "kind" : null;
            if (role is null)
            {
                continue; // unknown keys (host, created, sizes, ...) are ignored
            }

            if (found.TryGetValue(role, out var first))
            {
                if (first.Value != value)
                {
                    notes.Add($"line {lineNo}: {key}= says '{NameText.Printable(Cut(value))}' but line {first.Line} ({first.Key}=) said '{NameText.Printable(Cut(first.Value))}'; the first is used");
                }

                continue;
            }

            found[role] = (key, value, lineNo);
        }

        SnapshotName? Name(string role)
        {
            if (!found.TryGetValue(role, out var f))
            {
                return null;
            }

            // A path, '..' or anything else that is not exactly a name is never used.
            var check = SnapshotName.Check(f.Value);
            if (check.Value is null)
            {
                notes.Add($"line {f.Line}: {f.Key}= is not a snapshot name ({check.Error}); ignored");
            }

            return check.Value;
        }

        var snapshot = Name("snapshot");
        var saysNoParent = found.TryGetValue("parent", out var p) && p.Value is "" or "-" or "none" or "None" or "NONE" or "(none)" or "null";
        var parent = saysNoParent ? null : Name("parent");
        StreamKind? kind = null;
        if (found.TryGetValue("kind", out var k))
        {
            kind = k.Value.ToLowerInvariant() switch
            {
                "full" => StreamKind.Full,
                "incremental" or "incr" or "inc" or "incr.btrfs.gpg" => StreamKind.Incremental,
                _ => null,
            };
            if (kind is null)
            {
                notes.Add($"line {k.Line}: {k.Key}= '{NameText.Printable(Cut(k.Value))}' is not a stream kind (full, incremental, incr); ignored");
            }
        }

        return new LegacyManifest
        {
            Snapshot = snapshot,
            SnapshotKey = snapshot is null ? null : found["snapshot"].Key,
            Parent = parent,
            ParentKey = parent is null ? null : found["parent"].Key,
            SaysNoParent = saysNoParent,
            Kind = kind,
            KindKey = kind is null ? null : found["kind"].Key,
            Notes = notes,
        };
    }

    private static LegacyManifest Unreadable(string why) => new() { IsUnreadable = true, Notes = [$"the scripts' manifest cannot be read: {why}; the file name decides"] };

    private static string Unquote(string value)
        => value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;

    private static string Cut(string value) => value.Length <= 120 ? value : value[..120] + "...";
}

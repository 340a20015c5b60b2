using System.Text;

namespace BtrfsSend.TestSupport;

/// <summary>
/// The one tree comparison of the test suite (and of scripts/demo.sh): scripts/lib/treedump.py
/// writes one line per entry — the subvolume root included — with raw path bytes, type, mode
/// (setuid/setgid/sticky included), owner, size, link count, nanosecond mtime, hard-link group,
/// symlink target bytes, device numbers, every xattr of every namespace (POSIX ACLs included),
/// SHA-256 and the SEEK_DATA/SEEK_HOLE data map. Two trees are the same when their dumps are;
/// <see cref="Differences"/> says how they differ, entry by entry and field by field.
/// </summary>
public static class TreeDump
{
    public static string ScriptFilePath => RepoPaths.Of("scripts", "lib", "treedump.py");

    /// <summary>Runs treedump.py on <paramref name="rootDirPath"/> and returns its dump.</summary>
    public static Task<string> DumpAsync(string rootDirPath) => Run.OutAsync("python3", ScriptFilePath, rootDirPath);

    /// <summary>Parses a dump into path → (field → value), keeping field order.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<KeyValuePair<string, string>>> Parse(string dump)
    {
        var entries = new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>>(StringComparer.Ordinal);
        foreach (var line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ').Select(f =>
            {
                var eq = f.IndexOf('=', StringComparison.Ordinal);
                return eq < 0 ? throw new FormatException($"not a key=value field: '{f}'") : KeyValuePair.Create(f[..eq], f[(eq + 1)..]);
            }).ToList();
            if (fields.Count == 0 || fields[0].Key != "path")
            {
                throw new FormatException($"a dump line starts with path=: '{line}'");
            }

            entries.Add(fields[0].Value, fields.Skip(1).ToList());
        }

        return entries;
    }

    /// <summary>
    /// Every difference between <paramref name="expectedDump"/> (the source) and
    /// <paramref name="actualDump"/> (the copy), one readable line each (paths escaped as in the
    /// dump, "." is the root), except those an <paramref name="allowed"/> rule names.
    /// </summary>
    public static IReadOnlyList<string> Differences(string expectedDump, string actualDump, params TreeAllowance[] allowed)
    {
        var expected = Parse(expectedDump);
        var actual = Parse(actualDump);
        var differences = new List<string>();
        foreach (var path in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(path, out var got))
            {
                differences.Add($"{path}: missing from the copy");
                continue;
            }

            if (!expected.TryGetValue(path, out var want))
            {
                differences.Add($"{path}: only in the copy");
                continue;
            }

            var wantFields = want.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            var gotFields = got.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            foreach (var key in want.Select(f => f.Key).Union(got.Select(f => f.Key)))
            {
                var a = wantFields.GetValueOrDefault(key);
                var b = gotFields.GetValueOrDefault(key);
                if (a == b || allowed.Any(rule => rule.Covers(path, key, wantFields)))
                {
                    continue;
                }

                differences.Add($"{path}: {key} {a ?? "(none)"} -> {b ?? "(none)"}");
            }
        }

        return differences;
    }

    /// <summary>Fails (with every difference listed) unless <paramref name="copyDirPath"/> is the same tree as <paramref name="sourceDirPath"/>.</summary>
    public static async Task AssertSameAsync(string sourceDirPath, string copyDirPath, params TreeAllowance[] allowed)
    {
        var differences = Differences(await DumpAsync(sourceDirPath), await DumpAsync(copyDirPath), allowed);
        if (differences.Count > 0)
        {
            var text = new StringBuilder($"{copyDirPath} differs from {sourceDirPath} in {differences.Count} field(s):\n");
            foreach (var d in differences.Take(60))
            {
                text.Append("  ").Append(d).Append('\n');
            }

            throw new Xunit.Sdk.XunitException(text.ToString());
        }
    }

    /// <summary>Escapes raw path bytes as the dump does (bytes outside 0x21-0x7e, '\' and '=' as \xHH).</summary>
    public static string Escape(ReadOnlySpan<byte> raw)
    {
        var sb = new StringBuilder();
        foreach (var b in raw)
        {
            if (b is >= 0x21 and <= 0x7E and not (0x5C or 0x3D))
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return sb.ToString();
    }

    /// <summary>Escapes a UTF-8 path as the dump does.</summary>
    public static string Escape(string path) => Escape(Encoding.UTF8.GetBytes(path));
}

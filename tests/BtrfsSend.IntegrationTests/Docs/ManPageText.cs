namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>A man page's markdown source (docs/NAME.8.md), cut into its <c>#</c> and <c>##</c> sections.</summary>
internal sealed class ManPageText(string markdown)
{
    public string Markdown { get; } = markdown;

    /// <summary>The text from the heading line <paramref name="heading"/> (e.g. <c>## verify</c>) to the next heading of the same or a higher level.</summary>
    public string Section(string heading)
    {
        var level = heading.TakeWhile(c => c == '#').Count();
        var lines = Markdown.Split('\n');
        var start = Array.IndexOf(lines, heading);
        if (start < 0)
        {
            return "";
        }

        var end = start + 1;
        while (end < lines.Length && !IsHeadingUpTo(lines[end], level))
        {
            end++;
        }

        return string.Join('\n', lines[(start + 1)..end]);
    }

    /// <summary>Whether <paramref name="name"/> is documented as a bold term (<c>**--config**</c>, <c>**STATE_FILE**</c>) in <paramref name="text"/>.</summary>
    public static bool HasTerm(string text, string name) => text.Contains($"**{name.Replace("_", "\\_", StringComparison.Ordinal)}**", StringComparison.Ordinal)
        || text.Contains($"**{name}**", StringComparison.Ordinal);

    private static bool IsHeadingUpTo(string line, int level)
    {
        var hashes = line.TakeWhile(c => c == '#').Count();
        return hashes > 0 && hashes <= level && line.Length > hashes && line[hashes] == ' ';
    }
}

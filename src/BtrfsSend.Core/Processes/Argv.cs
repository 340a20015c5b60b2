using System.Text;

namespace BtrfsSend.Core.Processes;

/// <summary>argv helpers. Commands are always arrays; this only renders them for humans.</summary>
public static class Argv
{
    /// <summary>
    /// Renders argv as a POSIX-shell-quoted line for logs, error messages and the "by hand"
    /// commands printed by <c>--dry-run</c>. Never executed by this program.
    /// </summary>
    public static string Render(IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    /// <summary>Quotes one word for a POSIX shell (single quotes, <c>'\''</c> for embedded quotes).</summary>
    public static string Quote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:@,+%".Contains(c, StringComparison.Ordinal)))
        {
            return word;
        }

        var sb = new StringBuilder(word.Length + 2).Append('\'');
        foreach (var c in word)
        {
            sb.Append(c == '\'' ? "'\\''" : c.ToString());
        }

        return sb.Append('\'').ToString();
    }
}

using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// Arrays travel through <see cref="Microsoft.Extensions.Configuration"/> as one string of shell
/// words, so that a later layer (environment, command line) replaces a whole array rather than
/// merging element by element with the file's.
/// </summary>
internal static class ShellWords
{
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '/' or '@' or ':' or '+' or ',' or '=')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    /// <summary>Splits <paramref name="text"/> (optionally wrapped in parentheses) into words, like a bash array body.</summary>
    public static (IReadOnlyList<string>? Words, string? Error) Split(string text)
    {
        var body = text.Trim(' ', '\t');
        if (body.StartsWith('(') && body.EndsWith(')'))
        {
            body = body[1..^1];
        }

        var parsed = ShellConfigParser.Parse("X=(" + body.Replace('\n', ' ') + ")");
        if (parsed.Errors.Count > 0)
        {
            return (null, parsed.Errors[0].Message);
        }

        return parsed.Assignments.Count == 1
            ? (parsed.Assignments[0].Items, null)
            : (null, $"'{NameText.Printable(text)}' is not a list of words");
    }
}

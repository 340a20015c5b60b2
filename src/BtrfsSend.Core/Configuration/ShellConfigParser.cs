using System.Text;
using BtrfsSend.Core.Naming;

namespace BtrfsSend.Core.Configuration;

/// <summary>
/// Reads the subset of bash the shell scripts' config files use: comments, blank lines, <c>KEY=value</c>
/// with optional <c>export</c>, 'single' and "double" quotes, backslash escapes and
/// <c>KEY=(a b c)</c> arrays (which may span lines). Nothing is ever executed: anything bash would
/// expand or run (<c>$VAR</c>, <c>$(...)</c>, backticks, <c>~</c>, <c>;</c>, a second word) is an
/// error naming the line, because silently reading it differently from bash would be worse.
/// </summary>
internal static class ShellConfigParser
{
    public static ShellParseResult Parse(string text)
    {
        var lines = text.Split('\n');
        var assignments = new List<ShellAssignment>();
        var errors = new List<ShellSyntaxError>();
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNo = i + 1;
            var line = lines[i];
            if (line.EndsWith('\r'))
            {
                errors.Add(new(lineNo, "", "line ends with a carriage return (Windows line ending); allowed: LF line endings"));
                continue;
            }

            var p = SkipBlanks(line, 0);
            if (p == line.Length || line[p] == '#')
            {
                continue;
            }

            if (line.AsSpan(p).StartsWith("export") && p + 6 < line.Length && line[p + 6] is ' ' or '\t')
            {
                p = SkipBlanks(line, p + 6);
            }

            var start = p;
            while (p < line.Length && (char.IsAsciiLetterOrDigit(line[p]) || line[p] == '_'
                || (line[p] is '-' or '.' && line.AsSpan(start, p - start).StartsWith(ConfigKeys.ClientPrefix))))
            {
                // Client names may contain '-' and '.' (CLIENT_prod-srv=...), which bash would not
                // accept as a variable name; only this reader ever reads the receiver's client map.
                p++;
            }

            var key = line[start..p];
            if (key.Length == 0 || char.IsAsciiDigit(key[0]) || p == line.Length || line[p] != '=')
            {
                var hint = p < line.Length && line[p] is ' ' or '\t' && key.Length > 0
                    ? "no spaces around '=' in a shell assignment"
                    : "KEY=value with KEY [A-Za-z_][A-Za-z0-9_]*";
                errors.Add(new(lineNo, "", $"'{NameText.Printable(line.Trim())}' is not an assignment; allowed: {hint}"));
                continue;
            }

            p++;
            string? error;
            if (p < line.Length && line[p] == '(')
            {
                var items = new List<string>();
                var firstLine = i;
                (i, error) = ReadArray(lines, i, p + 1, items);
                if (error is not null)
                {
                    errors.Add(new(i + 1, key, error));
                    continue;
                }

                assignments.Add(new ShellAssignment(key, ShellWords.Join(items), items, firstLine + 1));
                continue;
            }

            var value = new StringBuilder();
            (p, error) = ReadWord(line, p, value, inArray: false);
            if (error is null)
            {
                p = SkipBlanks(line, p);
                if (p < line.Length && line[p] != '#')
                {
                    error = $"unquoted space in the value (bash would run '{NameText.Printable(line[p..])}' as a command); allowed: quote the whole value";
                }
            }

            if (error is not null)
            {
                errors.Add(new(lineNo, key, error));
                continue;
            }

            assignments.Add(new ShellAssignment(key, value.ToString(), null, lineNo));
        }

        return new ShellParseResult(assignments, errors);
    }

    private static (int LastLine, string? Error) ReadArray(string[] lines, int lineIndex, int p, List<string> items)
    {
        while (lineIndex < lines.Length)
        {
            var line = lines[lineIndex];
            while (true)
            {
                p = SkipBlanks(line, p);
                if (p == line.Length || line[p] == '#')
                {
                    break;
                }

                if (line[p] == ')')
                {
                    var rest = SkipBlanks(line, p + 1);
                    return rest == line.Length || line[rest] == '#'
                        ? (lineIndex, null)
                        : (lineIndex, $"text after the closing ')': '{NameText.Printable(line[rest..])}'; allowed: only a comment");
                }

                var word = new StringBuilder();
                string? error;
                (p, error) = ReadWord(line, p, word, inArray: true);
                if (error is not null)
                {
                    return (lineIndex, error);
                }

                items.Add(word.ToString());
            }

            lineIndex++;
            p = 0;
            if (lineIndex < lines.Length && lines[lineIndex].EndsWith('\r'))
            {
                return (lineIndex, "line ends with a carriage return (Windows line ending); allowed: LF line endings");
            }
        }

        return (lines.Length - 1, "array has no closing ')'; allowed: KEY=(word word ...)");
    }

    /// <summary>Reads one shell word starting at <paramref name="p"/>; stops at a blank or, in an array, at ')'.</summary>
    private static (int End, string? Error) ReadWord(string line, int p, StringBuilder word, bool inArray)
    {
        if (p < line.Length && line[p] == '~')
        {
            return (p, "'~' would be expanded by bash; allowed: an absolute path");
        }

        while (p < line.Length)
        {
            var c = line[p];
            switch (c)
            {
                case ' ' or '\t':
                    return (p, null);
                case ')' when inArray:
                    return (p, null);
                case '\'':
                    {
                        var close = line.IndexOf('\'', p + 1);
                        if (close < 0)
                        {
                            return (p, "unterminated single quote; allowed: a quoted value on one line");
                        }

                        word.Append(line, p + 1, close - p - 1);
                        p = close + 1;
                        break;
                    }

                case '"':
                    {
                        p++;
                        while (true)
                        {
                            if (p == line.Length)
                            {
                                return (p, "unterminated double quote; allowed: a quoted value on one line");
                            }

                            var d = line[p];
                            if (d == '"')
                            {
                                p++;
                                break;
                            }

                            if (d is '$' or '`')
                            {
                                return (p, $"'{d}' inside double quotes would be expanded by bash; allowed: literal text (use single quotes)");
                            }

                            if (d == '\\' && p + 1 < line.Length && line[p + 1] is '"' or '\\' or '$' or '`')
                            {
                                word.Append(line[p + 1]);
                                p += 2;
                                continue;
                            }

                            if (d == '\\' && p + 1 == line.Length)
                            {
                                return (p, "line continuation with '\\' is not supported; allowed: the value on one line");
                            }

                            word.Append(d);
                            p++;
                        }

                        break;
                    }

                case '\\':
                    if (p + 1 == line.Length)
                    {
                        return (p, "line continuation with '\\' is not supported; allowed: the value on one line");
                    }

                    word.Append(line[p + 1]);
                    p += 2;
                    break;
                case '$' or '`':
                    return (p, $"'{c}' would be expanded by bash; allowed: literal text (use single quotes)");
                case ';' or '&' or '|' or '<' or '>' or '(' or ')':
                    return (p, $"shell operator '{c}' is not supported; allowed: literal text (quote it)");
                case '*' or '?' or '[' when inArray:
                    return (p, $"unquoted '{c}' in an array would be a filename pattern in bash; allowed: quote it");
                default:
                    if (char.IsControl(c))
                    {
                        return (p, $"the value contains {NameText.Describe(c)}; allowed: printable text");
                    }

                    word.Append(c);
                    p++;
                    break;
            }
        }

        return (p, null);
    }

    private static int SkipBlanks(string line, int p)
    {
        while (p < line.Length && line[p] is ' ' or '\t')
        {
            p++;
        }

        return p;
    }
}

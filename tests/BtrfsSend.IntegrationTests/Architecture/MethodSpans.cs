using System.Text.RegularExpressions;

namespace BtrfsSend.IntegrationTests.Architecture;

/// <summary>
/// Finds the methods of a C# file and their length from its layout, which <c>dotnet format</c>
/// keeps fixed in this repository: every block opens with a line that holds only <c>{</c> and
/// closes with a line that starts with <c>}</c> at the same indentation. A block directly inside a
/// type whose header (the last line at the block's indentation before it) has a parameter list and
/// is not a type declaration is a method; nested blocks (statements, lambdas, local functions)
/// belong to it. A file whose braces do not pair this way is reported, never silently skipped.
/// </summary>
internal static partial class MethodSpans
{
    public static IReadOnlyList<MethodSpan> Of(string relativePath, string[] lines)
    {
        var found = new List<MethodSpan>();
        var open = new Stack<(int Indent, bool IsType, bool IsMethod, string Name, int Start)>();
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i].TrimEnd();
            var body = text.TrimStart();
            var indent = text.Length - body.Length;
            if (body == "{")
            {
                var start = HeaderStart(lines, i, indent);
                var header = string.Join(' ', lines[start..i].Select(l => l.Trim()));
                var insideType = open.Count == 0 || open.Peek().IsType;
                var beforeParameters = header.Split('(')[0];
                var isType = insideType && TypeKeyword().IsMatch(beforeParameters);
                var isMethod = insideType && !isType && header.Contains('(', StringComparison.Ordinal);
                open.Push((indent, isType, isMethod, isMethod ? NameOf(header) : "", start));
            }
            else if (body.StartsWith('}') && open.Count > 0 && open.Peek().Indent == indent)
            {
                var block = open.Pop();
                if (block.IsMethod)
                {
                    found.Add(new MethodSpan(relativePath, block.Name, block.Start + 1, i - block.Start + 1));
                }
            }
        }

        if (open.Count > 0)
        {
            throw new InvalidDataException($"{relativePath}: {open.Count} block(s) opened with a lone '{{' were not closed at the same indentation (the file is not laid out as dotnet format leaves it)");
        }

        return found;
    }

    /// <summary>The last line above <paramref name="brace"/> at its indentation that is code (not a comment or an attribute).</summary>
    private static int HeaderStart(string[] lines, int brace, int indent)
    {
        for (var j = brace - 1; j >= 0; j--)
        {
            var text = lines[j].TrimEnd();
            var body = text.TrimStart();
            if (body.Length > 0 && text.Length - body.Length == indent && !body.StartsWith("//", StringComparison.Ordinal) && !body.StartsWith('['))
            {
                return j;
            }
        }

        return brace;
    }

    private static string NameOf(string header)
        => MethodName().Match(header) is { Success: true } m ? m.Groups[1].Value : header;

    [GeneratedRegex(@"\b(class|struct|record|interface|enum|namespace)\b")]
    private static partial Regex TypeKeyword();

    [GeneratedRegex(@"(\w+)(?:<[^()]*>)?\(")]
    private static partial Regex MethodName();
}

using System.Text.RegularExpressions;
using BtrfsSend.IntegrationTests.Docs;

namespace BtrfsSend.IntegrationTests.Examples;

/// <summary>
/// Finds the command lines of btrfs-send-backup and btrfs-backup-receive in example files, man
/// pages and README code blocks, so that a verb or option the programs do not have is caught.
/// </summary>
internal static partial class CommandLines
{
    /// <summary>
    /// Every invocation in <paramref name="text"/>: the program name (alone or at the end of a
    /// path), then an optional verb from <paramref name="verbs"/> and the <c>--options</c> that
    /// follow, up to a lone <c>--</c> (serve's command) or a shell/quoting character. An occurrence
    /// followed by neither a known verb nor an option (a file name, prose) is not an invocation.
    /// </summary>
    public static IEnumerable<Invocation> In(string text, string where, IReadOnlyDictionary<string, IReadOnlyList<string>> verbs)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            foreach (Match m in ProgramName().Matches(line))
            {
                var program = m.Groups[1].Value;
                var tokens = Tokens(line[(m.Index + m.Length)..]);
                if (tokens.Count == 0)
                {
                    continue;
                }

                string? verb = null;
                if (verbs[program].Contains(tokens[0]))
                {
                    verb = tokens[0];
                    tokens = tokens.Skip(1).ToList();
                }
                else if (!tokens[0].StartsWith("--", StringComparison.Ordinal))
                {
                    continue;
                }

                var options = tokens.Where(t => t.StartsWith("--", StringComparison.Ordinal) && t != "--").Select(t => t.Split('=')[0]).ToList();
                yield return new Invocation(program, verb, options, $"{where}:{i + 1}");
            }
        }
    }

    /// <summary>Icinga 2 <c>object CheckCommand</c> blocks: the command array's program and verb, the option keys of <c>arguments</c>.</summary>
    public static IEnumerable<Invocation> InIcinga(string text, string where)
    {
        foreach (Match block in IcingaBlock().Matches(text))
        {
            var command = block.Groups["command"].Value.Split(',').Select(t => t.Trim().Trim('"')).ToList();
            var index = command.FindIndex(t => ProgramHelp.Programs.Any(p => t.EndsWith("/" + p, StringComparison.Ordinal)));
            if (index < 0)
            {
                continue;
            }

            var program = ProgramHelp.Programs.Single(p => command[index].EndsWith("/" + p, StringComparison.Ordinal));
            var verb = index + 1 < command.Count ? command[index + 1] : null;
            var options = IcingaArgument().Matches(block.Value).Select(a => a.Groups[1].Value).ToList();
            yield return new Invocation(program, verb, options, $"{where} CheckCommand {block.Groups["name"].Value}");
        }
    }

    private static List<string> Tokens(string rest)
    {
        var result = new List<string>();
        foreach (var token in rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (token == "--" || token.IndexOfAny(['"', '\'', '\\', '|', ';', '#', '`', '>', '<', '(', ')']) >= 0)
            {
                break;
            }

            result.Add(token);
        }

        return result;
    }

    [GeneratedRegex(@"(?:^|(?<=[\s/]))(btrfs-send-backup|btrfs-backup-receive)(?=[ \t])")]
    private static partial Regex ProgramName();

    [GeneratedRegex(@"object CheckCommand ""(?<name>[^""]+)"" \{.*?command = \[(?<command>[^\]]*)\].*?\n\}", RegexOptions.Singleline)]
    private static partial Regex IcingaBlock();

    [GeneratedRegex(@"""(--[a-z-]+)""\s*=")]
    private static partial Regex IcingaArgument();
}

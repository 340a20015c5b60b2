using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>What a built program's real <c>--help</c> prints: its verbs and each verb's options.</summary>
internal static partial class HelpText
{
    /// <summary>Runs <c>program [verb] --help</c> and returns its stdout (exit 0 required).</summary>
    public static async Task<string> OfAsync(string programFilePath, string? verb = null)
    {
        string[] argv = verb is null ? [programFilePath, "--help"] : [programFilePath, verb, "--help"];
        var result = await Run.TryAsync(argv);
        Assert.True(result.IsSuccess, $"{string.Join(' ', argv)} exited {result.ExitCode}: {result.StandardErrorTail}");
        return result.StandardOutput;
    }

    /// <summary>The verbs listed under "Commands:" (first word of each entry).</summary>
    public static IReadOnlyList<string> Commands(string help)
        => Entries(help, "Commands:").Select(e => e.Split(' ')[0]).ToList();

    /// <summary>Every option name under "Options:", e.g. <c>--config</c>, <c>-h</c>, <c>-?</c>.</summary>
    public static IReadOnlyList<string> Options(string help)
        => Entries(help, "Options:")
            .SelectMany(e => e.Split(", "))
            .Select(name => name.Split(' ')[0])
            .ToList();

    // An entry's first column ends at the first run of two spaces: "  --config <config>  The ...".
    private static IEnumerable<string> Entries(string help, string heading)
    {
        var inSection = false;
        foreach (var line in help.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (!line.StartsWith(' ') && line.Length > 0)
            {
                inSection = line == heading;
                continue;
            }

            if (inSection && EntryLine().Match(line) is { Success: true } match)
            {
                yield return match.Groups[1].Value;
            }
        }
    }

    [GeneratedRegex(@"^  (\S.*?)(?:  |$)")]
    private static partial Regex EntryLine();
}

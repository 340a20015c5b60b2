using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>
/// The bash completion each program prints (<c>completion bash</c>, what the packages install)
/// against the verbs and options its real --help lists, and run in a real bash.
/// </summary>
[Collection(ProgramHelpCollection.Name)]
public sealed partial class CompletionTests(ProgramHelp help)
{
    public static TheoryData<string> Programs => new(ProgramHelp.Programs);

    private static async Task<string> ScriptAsync(string program)
    {
        var result = await Run.TryAsync(ProgramHelp.Binary(program), "completion", "bash");
        Assert.True(result.IsSuccess, result.StandardErrorTail);
        return result.StandardOutput;
    }

    /// <summary>The script's tables: name (subs, flags, values) → context ("." or a verb) → words.</summary>
    private static Dictionary<string, Dictionary<string, HashSet<string>>> Tables(string script)
    {
        var tables = new Dictionary<string, Dictionary<string, HashSet<string>>>(StringComparer.Ordinal);
        Dictionary<string, HashSet<string>>? current = null;
        foreach (var line in script.Split('\n'))
        {
            if (TableStart().Match(line) is { Success: true } start)
            {
                current = tables[start.Groups[1].Value] = new(StringComparer.Ordinal);
            }
            else if (current is not null && TableRow().Match(line) is { Success: true } row)
            {
                current[row.Groups[1].Value] = [.. row.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
            }
            else
            {
                current = null;
            }
        }

        return tables;
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public async Task The_script_offers_exactly_the_verbs_and_each_verbs_options_of_the_real_help(string program)
    {
        var tables = Tables(await ScriptAsync(program));

        Assert.Equal(help.Verbs[program].Order(StringComparer.Ordinal), tables["subs"]["."].Order(StringComparer.Ordinal));
        Assert.Contains("completion", tables["subs"]["."]);
        foreach (var verb in help.Verbs[program].Prepend("."))
        {
            var offered = tables["flags"][verb].Concat(tables["values"][verb]).Order(StringComparer.Ordinal);
            var real = help.Options[(program, verb == "." ? null : verb)].Distinct().Order(StringComparer.Ordinal);
            Assert.True(real.SequenceEqual(offered), $"{program} {verb}: help lists [{string.Join(' ', real)}], completion offers [{string.Join(' ', offered)}]");
        }
    }

    [Theory]
    [InlineData("btrfs-send-backup", new[] { "re" }, new[] { "restore" })]
    [InlineData("btrfs-send-backup", new[] { "check-c" }, new[] { "check-config" })]
    [InlineData("btrfs-send-backup", new[] { "ex" }, new[] { "extract" })]
    [InlineData("btrfs-send-backup", new[] { "extract", "--for" }, new[] { "--force" })]
    [InlineData("btrfs-backup-receive", new[] { "check", "--verify-" }, new[] { "--verify-data", "--verify-limit" })]
    [InlineData("btrfs-backup-receive", new[] { "pr" }, new[] { "prune" })]
    [InlineData("btrfs-backup-receive", new[] { "completion", "" }, new[] { "bash" })]
    public async Task Bash_completes_a_partial_command_line_with_the_real_script(string program, string[] words, string[] expected)
    {
        using var temp = new TempDir("completion");
        var script = temp.Sub(program);
        File.WriteAllText(script, await ScriptAsync(program));

        var output = await Run.OutAsync(["bash", "--norc", "--noprofile", "-c",
            "cd / && source \"$1\" && shift && COMP_WORDS=(\"$@\") && COMP_CWORD=$(( $# - 1 )) && \"$(complete -p \"$1\" | sed 's/.*-F \\([^ ]*\\) .*/\\1/')\" && printf '%s\\n' \"${COMPREPLY[@]}\"",
            "bash", script, program, .. words]);

        Assert.Equal(expected, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [GeneratedRegex(@"^    local -A (\w+)=\($")]
    private static partial Regex TableStart();

    [GeneratedRegex(@"^        \['([^']*)'\]='([^']*)'$")]
    private static partial Regex TableRow();
}

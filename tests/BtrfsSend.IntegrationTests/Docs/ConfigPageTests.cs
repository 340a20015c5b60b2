using System.Text.RegularExpressions;
using BtrfsSend.Core.Configuration;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>
/// The configuration reference pages docs/PROGRAM.conf.5.md (rendered to docs/man/PROGRAM.conf.5
/// by scripts/man.sh, which fills their KEYS from the program's (8) page) against the keys the
/// loader really knows, both ways.
/// </summary>
public sealed partial class ConfigPageTests
{
    public static TheoryData<string> Programs => new(ProgramHelp.Programs);

    private static IReadOnlyList<string> Known(string program) => program == "btrfs-send-backup"
        ? ConfigKeys.Producer
        : [.. ConfigKeys.Receiver, ConfigKeys.ClientPrefix];

    /// <summary>The page's markdown with its include lines expanded as scripts/man.sh does.</summary>
    private static ManPageText Expanded(string program)
    {
        var lines = new List<string>();
        foreach (var line in File.ReadAllLines(RepoPaths.Of("docs", $"{program}.conf.5.md")))
        {
            if (Include().Match(line) is { Success: true } include)
            {
                var body = new ManPageText(File.ReadAllText(RepoPaths.Of("docs", include.Groups[1].Value))).Section("# " + include.Groups[2].Value);
                Assert.False(string.IsNullOrWhiteSpace(body), $"{line}: no such section");
                lines.Add(body);
            }
            else
            {
                lines.Add(line);
            }
        }

        return new ManPageText(string.Join('\n', lines));
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Every_key_the_loader_knows_is_documented_under_KEYS(string program)
    {
        var keys = Expanded(program).Section("# KEYS");

        var missing = Known(program).Where(k => !ManPageText.HasTerm(keys, k)).ToList();

        Assert.True(missing.Count == 0, $"keys missing from docs/{program}.conf.5.md KEYS: {string.Join(", ", missing)}");
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Every_key_the_page_documents_is_one_the_loader_knows(string program)
    {
        var keys = Expanded(program).Section("# KEYS");
        var known = Known(program).ToHashSet(StringComparer.Ordinal);

        // Definition-list terms: the bold names on the line before a ":   " definition.
        var lines = keys.Split('\n');
        var documented = lines.Zip(lines.Skip(1))
            .Where(pair => pair.Second.StartsWith(":   ", StringComparison.Ordinal))
            .SelectMany(pair => Term().Matches(pair.First).Select(m => m.Groups[1].Value.Replace("\\_", "_", StringComparison.Ordinal)))
            .ToList();

        Assert.True(documented.Count >= 15, $"only {documented.Count} keys found: the scanner is broken");
        var invented = documented.Where(k => !known.Contains(k)).ToList();
        Assert.True(invented.Count == 0, $"docs/{program}.conf.5.md documents keys the loader does not know: {string.Join(", ", invented)}");
    }

    [Theory]
    [MemberData(nameof(Programs))]
    public void Each_page_has_the_sections_of_a_file_format_page(string program)
    {
        var page = Expanded(program);

        foreach (var heading in new[] { "NAME", "SYNOPSIS", "DESCRIPTION", "KEYS", "EXAMPLE", "FILES", "SEE ALSO" })
        {
            Assert.True(page.Section($"# {heading}").Trim().Length > 0, $"docs/{program}.conf.5.md has no (or an empty) '# {heading}' section");
        }

        Assert.StartsWith($"% {program.ToUpperInvariant()}.CONF 5 ", page.Markdown, StringComparison.Ordinal);
        Assert.Contains($"**{program}.conf**(5)", File.ReadAllText(RepoPaths.Of("docs", $"{program}.8.md")), StringComparison.Ordinal);
    }

    [RealFact("go-md2man", NeedsRoot = false)]
    public async Task The_committed_roff_pages_are_what_scripts_man_sh_makes_of_the_markdown()
    {
        var result = await Run.TryAsync("bash", RepoPaths.Of("scripts", "man.sh"), "--check");

        Assert.True(result.IsSuccess, result.StandardErrorTail);
    }

    [RealTheory("groff", NeedsRoot = false)]
    [MemberData(nameof(Programs))]
    public async Task The_roff_page_renders_with_groff_without_a_single_warning(string program)
    {
        var result = await Run.TryAsync("groff", "-man", "-t", "-ww", "-Tutf8", "-P-cbou", RepoPaths.Of("docs", "man", $"{program}.conf.5"));

        Assert.True(result.IsSuccess, result.StandardErrorTail);
        Assert.Equal("", result.StandardErrorTail.Trim());
        Assert.Contains($"{program.ToUpperInvariant()}.CONF(5)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("SOURCE_TOP", File.ReadAllText(RepoPaths.Of("docs", "man", "btrfs-send-backup.conf.5")).Replace("\\_", "_", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^<!-- include: ([A-Za-z0-9.-]+\.md) ([A-Z][A-Z ]*) -->$")]
    private static partial Regex Include();

    // **KEY** or **CLIENT\_**: upper-case names, underscores possibly escaped.
    [GeneratedRegex(@"\*\*([A-Z][A-Z0-9]*(?:(?:_|\\_)[A-Z0-9]*)*)\*\*")]
    private static partial Regex Term();
}

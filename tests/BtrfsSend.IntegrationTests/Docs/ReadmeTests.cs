using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>README.md is what a new user reads first: its links must lead somewhere.</summary>
public sealed partial class ReadmeTests
{
    private static readonly string Readme = File.ReadAllText(RepoPaths.Of("README.md"));

    [Fact]
    public void Every_link_to_a_section_points_at_a_heading_of_the_README()
    {
        var slugs = Heading().Matches(Readme).Select(m => Slug(m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);
        var anchors = AnchorLink().Matches(Readme).Select(m => m.Groups[1].Value).Distinct().ToList();

        Assert.True(anchors.Count >= 10, $"only {anchors.Count} section links found: the scanner is broken");
        Assert.All(anchors, a => Assert.Contains(a, slugs));
    }

    [Fact]
    public void Every_relative_link_points_at_a_file_or_directory_in_the_repository()
    {
        // docs/restore.md and docs/reliability.md are written on other branches (issues 9 and 10)
        // at the same time as this README; until they are merged they may be absent.
        string[] pending = ["docs/restore.md", "docs/reliability.md"];
        var targets = FileLink().Matches(Readme).Select(m => m.Groups[1].Value).Distinct().ToList();

        var missing = targets
            .Where(t => !File.Exists(RepoPaths.Of(t)) && !Directory.Exists(RepoPaths.Of(t)) && !pending.Contains(t))
            .ToList();

        Assert.Contains("docs/protocol.md", targets);
        Assert.Contains("docs/btrfs-send-backup.8.md", targets);
        Assert.True(missing.Count == 0, $"README.md links to missing files: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_quick_start_transcript_shows_every_step_the_demo_promises()
    {
        var transcript = Readme[Readme.IndexOf("# scripts/demo.sh", StringComparison.Ordinal)..];

        foreach (var step in new[] { "run 1: backup OK", "full", "run 2: backup OK", "run 3: backup OK", "incremental", "prune --dry-run", "restore OK", "BTRFS-BACKUP OK", "summary", "demo passed" })
        {
            Assert.Contains(step, transcript, StringComparison.Ordinal);
        }
    }

    // GitHub's heading anchors: lowercase, punctuation other than '-' and '_' dropped, spaces to '-'.
    private static string Slug(string heading)
        => new string(heading.ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-');

    [GeneratedRegex(@"^#{2,4} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"\]\(#([^)]+)\)")]
    private static partial Regex AnchorLink();

    // [text](path) or [text](path#anchor), not http(s) and not in-page.
    [GeneratedRegex(@"\]\((?!https?:|#)([^)#]+)(?:#[^)]*)?\)")]
    private static partial Regex FileLink();
}

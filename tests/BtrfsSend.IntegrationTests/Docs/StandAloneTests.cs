using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>
/// The repository stands on its own: whoever clones it can follow every reference a comment or
/// a document makes. The project's design notes live outside it; what the code relies on is
/// written in docs/ (docs/architecture.md) instead of cited.
/// </summary>
public sealed partial class StandAloneTests
{
    [Fact]
    public void No_source_file_or_document_cites_a_design_note_that_is_not_in_the_repository()
    {
        var offenders = new List<string>();
        foreach (var file in TrackedTextFiles())
        {
            var lineNumber = 0;
            foreach (var line in File.ReadLines(file))
            {
                lineNumber++;
                if (OutsideCitation().IsMatch(line))
                {
                    offenders.Add($"{Path.GetRelativePath(RepoPaths.Root, file)}:{lineNumber}: {line.Trim()}");
                }
            }
        }

        Assert.True(offenders.Count == 0, "cites a file outside the repository:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void The_architecture_document_names_the_three_pipe_traps_the_code_refers_to()
    {
        var text = File.ReadAllText(RepoPaths.Of("docs", "architecture.md"));
        foreach (var trap in new[] { "1. **A broken pipe can look like success.**", "2. **Finalize only after the source succeeded.**", "3. **Plaintext arrives before integrity is known.**" })
        {
            Assert.Contains(trap, text, StringComparison.Ordinal);
        }
    }

    private static IEnumerable<string> TrackedTextFiles()
    {
        var roots = new[] { "src", "scripts", "docs", "examples", "tests" }.Select(d => RepoPaths.Of(d));
        var top = new[] { "README.md" }.Select(f => RepoPaths.Of(f));
        var extensions = new HashSet<string>(StringComparer.Ordinal) { ".cs", ".sh", ".md", ".py", ".conf", ".service", ".timer", "" };
        return top.Concat(roots.SelectMany(r => Directory.EnumerateFiles(r, "*", SearchOption.AllDirectories)))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Where(f => extensions.Contains(Path.GetExtension(f)))
            .Where(f => !f.EndsWith("StandAloneTests.cs", StringComparison.Ordinal));
    }

    // DESIGN.md, PERF-NOTES(.md), TESTBED.md, STYLE.md, S3-NOTES.md and the shared seeds are the
    // project's outside notes; "the seed" was their word for the shell scripts.
    [GeneratedRegex(@"\b(DESIGN|PERF-NOTES|TESTBED|STYLE|S3-NOTES)(\.md)?\b|\.\./shared/seeds|\bthe seed('s)?\b")]
    private static partial Regex OutsideCitation();
}

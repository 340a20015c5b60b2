using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Architecture;

/// <summary>
/// No log message template in src/ destructures a value with <c>{@Name}</c> (nor asks Serilog to
/// with <c>destructureObjects: true</c>): Serilog does that by reflecting over the value's public
/// properties, which the native (NativeAOT) receiver cannot promise, so its publish replaces that
/// path with ToString() (src/BtrfsSend.Receiver/Serilog.Substitutions.xml). Values are logged as
/// scalars: <c>{Name}</c>.
/// </summary>
public sealed partial class LogTemplateTests
{
    private static readonly Lazy<IReadOnlyList<(string File, string Text)>> Sources = new(() =>
    {
        var src = RepoPaths.Of("src");
        return [.. Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(src, f), File.ReadAllText(f)))];
    });

    [GeneratedRegex(@"\{@[A-Za-z_]")]
    private static partial Regex Destructuring();

    [Fact]
    public void The_scanner_reads_the_sources_and_finds_message_templates()
    {
        // Guards the rule below against a scanner that reads nothing: a known template with a property.
        Assert.Contains(Sources.Value, s => s.File.EndsWith("ListCommand.cs", StringComparison.Ordinal) && s.Text.Contains("\"set {Set}: {Problem}\"", StringComparison.Ordinal));
        Assert.True(Sources.Value.Count > 100, $"only {Sources.Value.Count} files found in src/");
    }

    [Fact]
    public void No_message_template_destructures_a_value_by_reflection()
    {
        var offenders = Sources.Value
            .Where(s => Destructuring().IsMatch(s.Text) || s.Text.Contains("destructureObjects: true", StringComparison.Ordinal))
            .Select(s => s.File);
        Assert.Empty(offenders);
    }
}

using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Architecture;

/// <summary>
/// No method in src/ is longer than <see cref="MaxLines"/> lines (signature to closing brace,
/// local functions included), except the flat parsers below, which read one key, field or
/// character class after another and read worse split, and the few named methods that are still
/// to be split, each with its reason. An entry that no longer needs its place fails too, so the
/// list only ever shrinks.
/// </summary>
public sealed class MethodLengthTests
{
    private const int MaxLines = 80;

    /// <summary>Parsers and config readers: a flat sequence of checks, one per key or field.</summary>
    private static readonly string[] FlatParsers =
    [
        "BtrfsSend.Core/Binding/StreamBinding.cs Parse",
        "BtrfsSend.Core/Configuration/ConfigLoader.cs LoadProducer",
        "BtrfsSend.Core/Configuration/ConfigLoader.cs LoadReceiver",
        "BtrfsSend.Core/Configuration/ObjectStoreConfig.cs Read",
        "BtrfsSend.Core/Configuration/ShellConfigParser.cs Parse",
        "BtrfsSend.Core/Configuration/ShellConfigParser.cs ReadWord",
        "BtrfsSend.Core/Manifests/LegacyManifestReader.cs Parse",
        "BtrfsSend.Core/Manifests/ManifestReader.cs Build",
        "BtrfsSend.Core/Manifests/ManifestReader.cs Parse",
        "BtrfsSend.Core/Protocol/ListEntryLine.cs Parse",
    ];

    /// <summary>Long methods not split yet, with the reason; remove an entry once its method is split.</summary>
    private static readonly string[] NotYetSplit =
    [
        // None left: every long method outside the flat parsers has been split.
    ];

    private static readonly Lazy<IReadOnlyList<MethodSpan>> Methods = new(() =>
    {
        var src = RepoPaths.Of("src");
        return [.. Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => MethodSpans.Of(Path.GetRelativePath(src, f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllLines(f)))];
    });

    [Fact]
    public void The_scanner_finds_methods_and_measures_them()
    {
        // Guards the rule below against a scanner that finds nothing: a known method and a known long one.
        Assert.Contains(Methods.Value, m => m.Key == "BtrfsSend.Core/Processes/PipelineRun.cs RunChildAsync" && m.Lines is > 20 and <= MaxLines);
        Assert.Contains(Methods.Value, m => m.Key == "BtrfsSend.Core/Manifests/ManifestReader.cs Build" && m.Lines > MaxLines);
        Assert.True(Methods.Value.Count > 500, $"only {Methods.Value.Count} methods found in src/");
    }

    [Fact]
    public void The_scanner_counts_a_method_from_its_signature_to_its_closing_brace()
    {
        string[] lines =
        [
            "namespace N;",
            "",
            "internal sealed class C(int x)",
            "{",
            "    /// <summary>Doc.</summary>",
            "    [Obsolete]",
            "    public int Twice(",
            "        int y)",
            "    {",
            "        int Local()",
            "        {",
            "            return y;",
            "        }",
            "",
            "        return Local() * 2;",
            "    }",
            "",
            "    public int Value",
            "    {",
            "        get",
            "        {",
            "            return x;",
            "        }",
            "    }",
            "}",
        ];

        var method = Assert.Single(MethodSpans.Of("N/C.cs", lines));

        Assert.Equal(new MethodSpan("N/C.cs", "Twice", 7, 10), method);
    }

    [Fact]
    public void No_method_in_src_is_longer_than_80_lines_except_the_flat_parsers_and_the_listed_ones()
    {
        var allowed = FlatParsers.Concat(NotYetSplit).ToHashSet(StringComparer.Ordinal);
        var tooLong = Methods.Value.Where(m => m.Lines > MaxLines && !allowed.Contains(m.Key))
            .Select(m => $"{m.File}:{m.Line} {m.Name} is {m.Lines} lines");

        Assert.Empty(tooLong);
    }

    [Fact]
    public void Every_listed_exception_is_still_longer_than_80_lines()
    {
        var stale = FlatParsers.Concat(NotYetSplit)
            .Where(key => !Methods.Value.Any(m => m.Key == key && m.Lines > MaxLines))
            .Select(key => $"{key} is no longer over {MaxLines} lines (or gone): remove it from the list");

        Assert.Empty(stale);
    }
}

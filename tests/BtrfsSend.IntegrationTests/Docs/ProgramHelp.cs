using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>
/// The real <c>--help</c> of both built programs and every verb, run once per test run (each
/// start of a program costs about a second on a loaded machine) and shared by the doc tests.
/// </summary>
public sealed class ProgramHelp : IAsyncLifetime
{
    public static IReadOnlyList<string> Programs { get; } = ["btrfs-send-backup", "btrfs-backup-receive"];

    private readonly Dictionary<string, IReadOnlyList<string>> verbs = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Program, string? Verb), IReadOnlyList<string>> options = [];

    /// <summary>The verbs each program's root <c>--help</c> lists under "Commands:".</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Verbs => verbs;

    /// <summary>The options of <c>program [verb] --help</c>; verb null = the program without a verb.</summary>
    public IReadOnlyDictionary<(string Program, string? Verb), IReadOnlyList<string>> Options => options;

    public static string Binary(string program) => program == "btrfs-send-backup" ? ProgramBinaries.Producer : ProgramBinaries.Receiver;

    public async Task InitializeAsync()
    {
        var roots = await Task.WhenAll(Programs.Select(p => HelpText.OfAsync(Binary(p))));
        foreach (var (program, help) in Programs.Zip(roots))
        {
            verbs[program] = HelpText.Commands(help);
            options[(program, null)] = HelpText.Options(help);
        }

        var pairs = Programs.SelectMany(p => verbs[p].Select(v => (Program: p, Verb: v))).ToList();
        var helps = await Task.WhenAll(pairs.Select(x => HelpText.OfAsync(Binary(x.Program), x.Verb)));
        foreach (var (pair, help) in pairs.Zip(helps))
        {
            options[(pair.Program, pair.Verb)] = HelpText.Options(help);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

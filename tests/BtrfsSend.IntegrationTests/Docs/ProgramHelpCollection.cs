namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>Test classes that read the programs' real --help share one <see cref="ProgramHelp"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ProgramHelpCollection : ICollectionFixture<ProgramHelp>
{
    public const string Name = "program help";
}

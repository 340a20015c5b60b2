namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>The fault cases run one after the other on one shared <see cref="FaultWorldFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultWorldFixture>
{
    public const string Name = "fault world";

    /// <summary>The trait every fault case carries: <c>dotnet test --filter Category=Fault</c>.</summary>
    public const string Category = "Fault";
}

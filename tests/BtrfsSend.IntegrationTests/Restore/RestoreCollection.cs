namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>The restore tests run one after the other on one shared <see cref="RestoreWorldFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class RestoreCollection : ICollectionFixture<RestoreWorldFixture>
{
    public const string Name = "restore world";
}

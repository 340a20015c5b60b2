namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// Shares one <see cref="RestoreWorld"/> across the restore tests, built on first use (inside a
/// test, after its prerequisites were checked, so a skipped test never builds it).
/// </summary>
public sealed class RestoreWorldFixture : IAsyncLifetime
{
    private readonly Lazy<Task<RestoreWorld>> _world = new(RestoreWorld.CreateAsync);

    internal Task<RestoreWorld> WorldAsync() => _world.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_world.IsValueCreated && _world.Value.IsCompletedSuccessfully)
        {
            await (await _world.Value).DisposeAsync();
        }
    }
}

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// Shares one <see cref="FaultWorld"/> across the fault cases, built on first use (inside a test,
/// after its prerequisites were checked, so a skipped test never builds it).
/// </summary>
public sealed class FaultWorldFixture : IAsyncLifetime
{
    private readonly Lazy<Task<FaultWorld>> _world = new(FaultWorld.CreateAsync);

    internal Task<FaultWorld> WorldAsync() => _world.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_world.IsValueCreated && _world.Value.IsCompletedSuccessfully)
        {
            await (await _world.Value).DisposeAsync();
        }
    }
}

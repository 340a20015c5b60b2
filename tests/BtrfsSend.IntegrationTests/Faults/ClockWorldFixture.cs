namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>Shares one <see cref="ClockWorld"/> across the clock cases, built on first use (so a skipped case never builds it).</summary>
public sealed class ClockWorldFixture : IAsyncLifetime
{
    private readonly Lazy<Task<ClockWorld>> _world = new(ClockWorld.CreateAsync);

    internal Task<ClockWorld> WorldAsync() => _world.Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_world.IsValueCreated && _world.Value.IsCompletedSuccessfully)
        {
            await (await _world.Value).DisposeAsync();
        }
    }
}

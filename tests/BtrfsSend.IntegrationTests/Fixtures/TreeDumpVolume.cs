using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Fixtures;

/// <summary>One loop btrfs shared by the tree comparison's tests, created on first use (so a skipped test creates nothing).</summary>
public sealed class TreeDumpVolume : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private BtrfsLoopFixture? _volume;
    private int _next;

    /// <summary>A fresh, empty directory on the shared btrfs.</summary>
    public async Task<string> NewDirAsync()
    {
        await _gate.WaitAsync();
        try
        {
            _volume ??= await BtrfsLoopFixture.CreateAsync("treedump");
            var dir = _volume.PathOf($"t{Interlocked.Increment(ref _next)}");
            Directory.CreateDirectory(dir);
            return dir;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_volume is not null)
        {
            await _volume.DisposeAsync();
        }

        _gate.Dispose();
    }
}

using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Storage;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.Core.Tests.Storage;

public sealed class DirectoryLockTests : IDisposable
{
    private readonly TempDir _dir = new("lock");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_second_holder_is_refused_until_the_first_releases_the_lock()
    {
        var path = _dir.Sub(".lock");
        using (var first = DirectoryLock.TryAcquire(path))
        {
            Assert.NotNull(first);
            Assert.Null(DirectoryLock.TryAcquire(path));
            var busy = Assert.Throws<LockHeldException>(() => DirectoryLock.Acquire(path, "set prod-srv/rootfs"));
            Assert.Contains("set prod-srv/rootfs is busy", busy.Message, StringComparison.Ordinal);
        }

        using var again = DirectoryLock.TryAcquire(path);
        Assert.NotNull(again);
    }

    [RealFact("flock", NeedsRoot = false)]
    public async Task A_lock_held_by_a_process_that_is_killed_is_released_by_the_kernel()
    {
        var path = _dir.Sub(".lock");
        using var cts = new CancellationTokenSource();
        var holder = Cli.Wrap("flock").WithArguments(["-x", path, "sleep", "60"]).WithValidation(CommandResultValidation.None).ExecuteAsync(cts.Token);
        for (var i = 0; i < 100 && DirectoryLock.TryAcquire(path) is { } probe && Release(probe); i++)
        {
            await Task.Delay(20);
        }

        Assert.Null(DirectoryLock.TryAcquire(path));

        await cts.CancelAsync(); // CliWrap kills the process (SIGKILL)
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await holder);
        using var after = DirectoryLock.TryAcquire(path);
        Assert.NotNull(after);
    }

    private static bool Release(DirectoryLock probe)
    {
        probe.Dispose();
        return true;
    }
}

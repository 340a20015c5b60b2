using BtrfsSend.Core.Processes;
using BtrfsSend.Receiver.Luks;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Luks;

public sealed class LuksSessionTests : IAsyncLifetime
{
    private RemoteBtrfsVolume? _v;

    private RemoteBtrfsVolume V => _v!;

    public async Task InitializeAsync()
    {
        if (Prerequisites.IsRoot)
        {
            _v = await RemoteBtrfsVolume.CreateAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_v is not null)
        {
            await _v.DisposeAsync();
        }
    }

    private LuksSession Session() => new(V.Options, new ToolRunner(), new MemorySink().CreateLogger(), V.Volume.LeaseDirPath);

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Close_stale_closes_a_session_older_than_the_lease_and_not_a_younger_one()
    {
        await V.OpenAsync();
        var session = Session();

        var early = await session.CloseIfStaleAsync(V.Clock.Now + V.Options.LuksLease - TimeSpan.FromSeconds(1));
        Assert.False(early);
        Assert.True(V.Volume.IsMounted);

        var late = await session.CloseIfStaleAsync(V.Clock.Now + V.Options.LuksLease + TimeSpan.FromSeconds(1));

        Assert.True(late);
        Assert.False(V.Volume.IsMounted);
        Assert.Equal($"cryptsetup luksClose {V.Volume.Name}", V.Volume.Calls("cryptsetup").Last());
        Assert.Null(session.Lease.TryReadOpenedAt());
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Close_stale_without_a_session_does_nothing()
    {
        var closed = await Session().CloseIfStaleAsync(DateTimeOffset.UtcNow.AddYears(1));

        Assert.False(closed);
        Assert.Empty(V.Volume.Calls("cryptsetup"));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_failed_mount_closes_the_just_opened_volume_again()
    {
        V.Options = V.Options with { LuksName = V.Volume.Name + "x" }; // the fake mount knows only the real name

        var result = await V.ServeAsync("open-luks", RemoteBtrfsVolume.Key);

        Assert.StartsWith("ERR io-error opening the LUKS volume failed", result.StdoutText, StringComparison.Ordinal);
        Assert.False(V.Volume.IsMounted);
        Assert.Equal($"cryptsetup luksClose {V.Volume.Name}x", V.Volume.Calls("cryptsetup").Last());
        Assert.Empty(Directory.GetFiles(V.Volume.LeaseDirPath, "*.lease"));
    }
}

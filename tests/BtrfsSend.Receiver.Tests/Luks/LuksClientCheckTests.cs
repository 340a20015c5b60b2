using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Luks;

/// <summary>open-luks and close-luks check the client like every other verb; only the opener closes.</summary>
public sealed class LuksClientCheckTests : IAsyncLifetime
{
    private RemoteBtrfsVolume? _v;

    private RemoteBtrfsVolume V => _v!;

    public async Task InitializeAsync()
    {
        if (Prerequisites.IsRoot)
        {
            _v = await RemoteBtrfsVolume.CreateAsync();
            V.Options = V.Options with
            {
                ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
                {
                    ["prod"] = ["prod/"],
                    ["web"] = ["web/"],
                },
            };
        }
    }

    public async Task DisposeAsync()
    {
        if (_v is not null)
        {
            await _v.DisposeAsync();
        }
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Another_clients_close_luks_is_forbidden_and_leaves_the_volume_open_for_its_opener()
    {
        var open = await V.ServeAsync("open-luks", RemoteBtrfsVolume.Key, client: "web");
        Assert.Equal(0, open.ExitCode);

        var foreign = await V.ServeAsync("close-luks", client: "prod");
        var unpinned = await V.ServeAsync("close-luks", client: null);

        Assert.Equal(5, foreign.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.Forbidden} the LUKS volume was not opened by client 'prod'", foreign.StdoutText, StringComparison.Ordinal);
        Assert.Equal(5, unpinned.ExitCode);
        Assert.True(V.Volume.IsMounted);
        Assert.Empty(V.Volume.Calls("umount"));

        var own = await V.ServeAsync("close-luks", client: "web");

        Assert.Equal(0, own.ExitCode);
        Assert.False(V.Volume.IsMounted);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_client_allowed_no_set_may_neither_open_nor_close_the_volume()
    {
        var open = await V.ServeAsync("open-luks", RemoteBtrfsVolume.Key, client: "stranger");
        var unpinnedOpen = await V.ServeAsync("open-luks", RemoteBtrfsVolume.Key, client: null);

        Assert.Equal(5, open.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.Forbidden} client 'stranger' is allowed no backup set", open.StdoutText, StringComparison.Ordinal);
        Assert.Equal(5, unpinnedOpen.ExitCode);
        Assert.Empty(V.Volume.Calls("cryptsetup"));
        Assert.False(V.Volume.IsMounted);

        await V.OpenAsync();
        var close = await V.ServeAsync("close-luks", client: "stranger");

        Assert.Equal(5, close.ExitCode);
        Assert.True(V.Volume.IsMounted);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task The_lease_records_the_opener_and_a_second_open_keeps_it()
    {
        await V.OpenAsync();
        var again = await V.ServeAsync("open-luks", RemoteBtrfsVolume.Key, client: "web");

        Assert.Equal(0, again.ExitCode);
        var lease = File.ReadAllText(Assert.Single(Directory.GetFiles(V.Volume.LeaseDirPath, "*.lease")));
        Assert.Equal("client=prod", lease.Split('\n')[1]);
        Assert.Equal(5, (await V.ServeAsync("close-luks", client: "web")).ExitCode);
        Assert.Equal(0, (await V.ServeAsync("close-luks", client: "prod")).ExitCode);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_volume_mounted_by_hand_without_a_lease_is_not_closed_by_a_client()
    {
        await V.OpenAsync();
        File.Delete(Assert.Single(Directory.GetFiles(V.Volume.LeaseDirPath, "*.lease")));

        var close = await V.ServeAsync("close-luks");

        Assert.Equal(5, close.ExitCode);
        Assert.True(V.Volume.IsMounted);
    }
}

using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Retention;
using BtrfsSend.Receiver.Luks;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Luks;

/// <summary>The received-subvolume store of remote-btrfs on a real btrfs volume, with real <c>btrfs receive</c>.</summary>
public sealed class ReceivedStoreTests(SendStreams streams) : IClassFixture<SendStreams>, IAsyncLifetime
{
    private static readonly BackupSet Set = BackupSet.Check("prod/root").Value!;
    private readonly MemorySink _log = new();
    private BtrfsLoopFixture? _volume;
    private ReceivedStore? _store;

    private ReceivedStore Store => _store!;

    private string SetDir => Store.SetDirPath(Set);

    private string[] Names => streams.Names;

    public async Task InitializeAsync()
    {
        if (Prerequisites.IsRoot)
        {
            _volume = await BtrfsLoopFixture.CreateAsync("rcvstore");
            _store = new ReceivedStore(_volume.PathOf("received"), new ToolRunner(), _log.CreateLogger());
            Directory.CreateDirectory(SetDir);
        }
    }

    public async Task DisposeAsync()
    {
        if (_volume is not null)
        {
            await _volume.DisposeAsync();
        }
    }

    private static SnapshotName Snapshot(string name) => SnapshotName.Check(name).Value!;

    /// <summary>What the receive verb does between begin and keep: real <c>btrfs receive</c> into the set's directory.</summary>
    private async Task<ReceiveVerdict> ReceiveAsync(string name, byte[] stream)
    {
        await using var attempt = await Store.BeginReceiveAsync(Set, Snapshot(name), CancellationToken.None);
        await Run.OutWithInputAsync(stream, "btrfs", "receive", "-q", "-e", attempt.SetDirPath);
        return await attempt.KeepAsync(CancellationToken.None);
    }

    private string[] Entries() => Directory.GetFileSystemEntries(SetDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_finished_receive_of_the_requested_name_is_kept_listed_and_named_the_last_received()
    {
        var verdict = await ReceiveAsync(Names[0], streams.Full0);

        Assert.True(verdict.IsKept);
        Assert.Equal([ReceivedStore.LastReceivedFileName, Names[0]], Entries());
        Assert.Equal(Names[0] + "\n", File.ReadAllText(Path.Combine(SetDir, ReceivedStore.LastReceivedFileName)));
        var listed = Assert.Single(await Store.ListCompleteAsync(Set, CancellationToken.None));
        Assert.Equal(Names[0], listed.Name.Value);
        Assert.True(await Store.IsCompleteAsync(Set, Snapshot(Names[0]), CancellationToken.None));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_receive_that_creates_another_name_is_not_kept_and_what_it_created_is_deleted()
    {
        var verdict = await ReceiveAsync(SendStreams.Name(5), streams.Full0);

        Assert.False(verdict.IsKept);
        Assert.False(verdict.CreatedExactlyTheSnapshot);
        Assert.Equal([Names[0]], verdict.CreatedNames);
        Assert.Empty(Entries());
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_writable_subvolume_of_the_requested_name_is_not_a_finished_receive_and_is_deleted()
    {
        var snapshot = Snapshot(Names[0]);
        await using (var attempt = await Store.BeginReceiveAsync(Set, snapshot, CancellationToken.None))
        {
            await Run.OutAsync("btrfs", "subvolume", "create", attempt.TargetPath);

            var verdict = await attempt.KeepAsync(CancellationToken.None);

            Assert.True(verdict.CreatedExactlyTheSnapshot);
            Assert.False(verdict.IsKept);
            Assert.False(verdict.Subvolume!.IsReadOnly);
        }

        Assert.Empty(Entries());
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Beginning_a_receive_deletes_a_partial_subvolume_a_killed_receive_left_and_keeps_finished_ones()
    {
        await ReceiveAsync(Names[0], streams.Full0);
        await Run.OutAsync("btrfs", "subvolume", "create", Path.Combine(SetDir, Names[1]));

        await using (await Store.BeginReceiveAsync(Set, Snapshot(Names[1]), CancellationToken.None))
        {
            Assert.Equal([ReceivedStore.LastReceivedFileName, Names[0]], Entries());
        }

        Assert.Contains(_log.Lines, l => l.Contains("a partial subvolume left by an interrupted receive", StringComparison.Ordinal));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Listing_skips_partial_subvolumes_and_names_that_are_not_snapshot_names()
    {
        await ReceiveAsync(Names[0], streams.Full0);
        await Run.OutAsync("btrfs", "subvolume", "create", Path.Combine(SetDir, Names[1]));
        Directory.CreateDirectory(Path.Combine(SetDir, "not-a-snapshot"));

        var listed = await Store.ListCompleteAsync(Set, CancellationToken.None);

        Assert.Equal([Names[0]], listed.Select(l => l.Name.Value));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Pruning_applies_the_policy_by_receive_time_but_never_deletes_the_last_acknowledged_snapshot()
    {
        await ReceiveAsync(Names[0], streams.Full0);
        await ReceiveAsync(Names[1], streams.Incr1);
        await ReceiveAsync(Names[2], streams.Incr2);
        File.WriteAllText(Path.Combine(SetDir, ReceivedStore.LastReceivedFileName), Names[0] + "\n");

        // KEEP_DAILY=1 and all three arrived today: the newest stays, and the pinned one.
        var deleted = await Store.PruneAsync(Set, new RetentionPolicy(0, 1, 0, 0, 0), DateTimeOffset.UtcNow, CancellationToken.None);

        Assert.Equal([Names[1]], deleted.Select(d => d.Id));
        Assert.Equal([ReceivedStore.LastReceivedFileName, Names[0], Names[2]], Entries());
    }
}

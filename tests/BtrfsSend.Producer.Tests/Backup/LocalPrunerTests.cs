using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Retention;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class LocalPrunerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 18, 0, 0, TimeSpan.Zero);

    [RealFact("mkfs.btrfs", "btrfs")]
    public async Task With_keep_daily_1_older_same_day_snapshots_go_but_the_state_snapshot_and_the_newest_stay()
    {
        await using var btrfs = await BtrfsLoopFixture.CreateAsync("prune");
        var (snapshots, names) = await CreateSnapshotsAsync(btrfs, Now.AddDays(-1), Now.AddHours(-4), Now.AddHours(-3), Now.AddHours(-2), Now.AddHours(-1));
        var pinned = names[2];

        var deleted = await new LocalPruner(snapshots, new RetentionPolicy(0, 1, 0, 0, 0), Serilog.Core.Logger.None).PruneAsync(pinned, Now);

        Assert.Equal(3, deleted);
        Assert.Equal([names[2], names[4]], snapshots.List());
        Assert.Equal(["other-prefix-20260301T000000Z", names[2].Value, names[4].Value], Directory.GetDirectories(snapshots.DirPath).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [RealFact("mkfs.btrfs", "btrfs")]
    public async Task The_state_snapshot_is_kept_even_when_it_is_the_oldest_and_the_policy_would_drop_it()
    {
        await using var btrfs = await BtrfsLoopFixture.CreateAsync("prune");
        var (snapshots, names) = await CreateSnapshotsAsync(btrfs, Now.AddDays(-30), Now.AddHours(-1));

        await new LocalPruner(snapshots, new RetentionPolicy(1, 0, 0, 0, 0), Serilog.Core.Logger.None).PruneAsync(names[0], Now);

        Assert.Equal(names, snapshots.List());
    }

    [RealFact("mkfs.btrfs", "btrfs")]
    public async Task An_empty_policy_and_a_dry_run_delete_nothing()
    {
        await using var btrfs = await BtrfsLoopFixture.CreateAsync("prune");
        var (snapshots, names) = await CreateSnapshotsAsync(btrfs, Now.AddHours(-3), Now.AddHours(-2), Now.AddHours(-1));

        var emptyDeleted = await new LocalPruner(snapshots, RetentionPolicy.Empty, Serilog.Core.Logger.None).PruneAsync(null, Now);
        var dryDeleted = await new LocalPruner(snapshots, new RetentionPolicy(0, 1, 0, 0, 0), Serilog.Core.Logger.None).PruneAsync(null, Now, dryRun: true);

        Assert.Equal(0, emptyDeleted);
        Assert.Equal(0, dryDeleted);
        Assert.Equal(names, snapshots.List());
    }

    /// <summary>Real read-only snapshots named for the given times, plus one of another prefix that must never be touched.</summary>
    private static async Task<(LocalSnapshots Snapshots, SnapshotName[] Names)> CreateSnapshotsAsync(BtrfsLoopFixture btrfs, params DateTimeOffset[] times)
    {
        var source = await btrfs.CreateSubvolumeAsync("@rootfs");
        Directory.CreateDirectory(btrfs.PathOf("snapshots"));
        var names = times.Select(t => SnapshotName.Create("prod-srv-rootfs", t)).ToArray();
        foreach (var name in names)
        {
            await btrfs.SnapshotReadOnlyAsync(source, Path.Combine("snapshots", name.Value));
        }

        await btrfs.SnapshotReadOnlyAsync(source, Path.Combine("snapshots", "other-prefix-20260301T000000Z"));
        return (new LocalSnapshots(btrfs.PathOf("snapshots"), "prod-srv-rootfs", new ToolRunner()), names);
    }
}

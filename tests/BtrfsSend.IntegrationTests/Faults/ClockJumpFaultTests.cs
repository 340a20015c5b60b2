using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// The server's clock, and prod-srv's, jump backwards and forwards (libfaketime under the real
/// receiver behind the real sshd and sudo, see <see cref="ClockWorld"/>). Uploads are refused
/// loudly, prune never deletes more than the policy says because of the jump, check says what is
/// wrong, and once the clock is right the next run succeeds with nothing lost.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class ClockJumpFaultTests(ClockWorldFixture fixture) : IClassFixture<ClockWorldFixture>
{
    // KEEP_WITHIN=1d counted from the jumped clock would keep only the newest chain; counted from
    // the newest backup it keeps both chains, all received minutes ago. check, as cron runs it on the
    // server with the jumped clock, finds the newest "2 days old".
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", ClockWorld.FakeTime)]
    public Task A_server_clock_two_days_ahead_refuses_uploads_as_clock_skew_and_prune_still_keeps_what_KEEP_WITHIN_kept()
        => AssertServerClockJumpRefusedAsync("ahead", "+2d", "h behind the receiver's clock",
            checkExitCode: 2, checkTexts: ["prod-srv/clock-ahead: newest stream"], pruneTexts: []);

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", ClockWorld.FakeTime)]
    public Task A_server_clock_two_days_behind_refuses_uploads_as_clock_skew_check_warns_of_backups_from_the_future_and_prune_deletes_nothing()
        => AssertServerClockJumpRefusedAsync("behind", "-2d", "h ahead of the receiver's clock",
            checkExitCode: 1, checkTexts: ["after the server's clock now", "check NTP"], pruneTexts: ["after the server's clock now"]);

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", ClockWorld.FakeTime)]
    public async Task A_backup_stamped_while_the_server_clock_was_12_hours_ahead_never_gets_the_next_backup_pruned_once_the_clock_is_back()
    {
        var world = await fixture.WorldAsync();
        var set = await world.NewSetAsync("back");
        var before = world.Capture(set);
        var firstChain = before.Manifests.Order(StringComparer.Ordinal).First()[..^".manifest".Length];

        // Within MAX_CLOCK_SKEW: accepted, with received_at 12 hours in the future.
        world.SetReceiverClock("+12h");
        try
        {
            var ahead = await world.RunAsync(set);
            Assert.True(ahead.ExitCode == 0, "the run under a clock 12 h ahead failed: " + ahead.Stderr);
        }
        finally
        {
            world.SetReceiverClock(null);
        }

        var next = await world.RunAsync(set);
        Assert.True(next.ExitCode == 0, "the run with the clock back failed: " + next.Stderr);
        var newest = File.ReadAllText(set.StateFilePath).Trim();

        var check = await world.ReceiverAsync(null, world.World.ReceiverConfigFilePath, "check", "--set", set.Name);
        Assert.True(check.ExitCode == 1, $"check exit {check.ExitCode} (WARNING expected): {check.StandardOutput}");
        Assert.Contains("after the server's clock now", check.StandardOutput, StringComparison.Ordinal);

        // KEEP_DAILY=1 by received_at keeps the stream stamped 12 h ahead (and its ancestors); the
        // newest backup, stamped correctly afterwards, must be kept too. The first chain goes, as
        // the policy says.
        var prune = await world.ReceiverAsync(null, world.DailyConfigFilePath, "prune", "--set", set.Name);
        Assert.True(prune.ExitCode == 0, $"prune exit {prune.ExitCode}: {prune.StandardError}");
        var after = world.Capture(set);
        Assert.True(after.StoreFiles.ContainsKey(newest + ".manifest"), $"prune deleted the newest backup {newest}: {prune.StandardError}");
        Assert.False(after.StoreFiles.ContainsKey(firstChain + ".manifest"), $"prune kept {firstChain}, which KEEP_DAILY=1 does not keep: {prune.StandardError}");
        Assert.Equal(before.Manifests.Count - 1 + 2, after.Manifests.Count);
        await world.AssertNoDataLostAsync(set, before, firstChain);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", ClockWorld.FakeTime)]
    public async Task A_producer_clock_behind_its_last_snapshot_stops_before_the_snapshot_and_one_two_days_ahead_is_refused_as_clock_skew()
    {
        var world = await fixture.WorldAsync();
        var set = await world.NewSetAsync("producer");
        var before = world.Capture(set);

        // prod-srv's clock went back 12 h: the new name would sort before the newest stored one.
        var back = await world.RunAsync(set, producerOffset: "-12h");
        Assert.True(back.ExitCode == 9, $"exit {back.ExitCode}: {back.Stderr}");
        var error = Assert.Single(back.Stderr.Split('\n'), l => l.Contains("[ERR]", StringComparison.Ordinal));
        Assert.Contains("h behind the last acknowledged snapshot", error, StringComparison.Ordinal);
        Assert.Contains("nothing was stopped, snapshotted or sent", error, StringComparison.Ordinal);
        AssertUnchanged(before, world.Capture(set));

        // prod-srv's clock went forward two days: the receiver refuses the name, nothing is kept.
        AssertRefusedAsClockSkew(await world.RunAsync(set, producerOffset: "+2d"), "h ahead of the receiver's clock", before, world.Capture(set));

        await AssertNextRunLosesNothingAsync(world, set, before);
    }

    /// <summary>
    /// The receiver's clock jumps by <paramref name="offset"/> over a new set NAME: the upload is
    /// refused as clock skew (<paramref name="skewText"/>) and changes nothing; check, under the
    /// jumped clock, exits <paramref name="checkExitCode"/> saying <paramref name="checkTexts"/>;
    /// prune under KEEP_WITHIN=1d succeeds (its log saying <paramref name="pruneTexts"/>) and
    /// deletes nothing; with the clock set right the next run succeeds and nothing is lost.
    /// </summary>
    private async Task AssertServerClockJumpRefusedAsync(string name, string offset, string skewText, int checkExitCode, string[] checkTexts, string[] pruneTexts)
    {
        var world = await fixture.WorldAsync();
        var set = await world.NewSetAsync(name);
        var before = world.Capture(set);
        world.SetReceiverClock(offset);
        try
        {
            AssertRefusedAsClockSkew(await world.RunAsync(set), skewText, before, world.Capture(set));

            var check = await world.ReceiverAsync(offset, world.World.ReceiverConfigFilePath, "check", "--set", set.Name);
            Assert.True(check.ExitCode == checkExitCode, $"check exit {check.ExitCode} ({checkExitCode} expected): {check.StandardOutput}");
            foreach (var text in checkTexts)
            {
                Assert.Contains(text, check.StandardOutput, StringComparison.Ordinal);
            }

            var prune = await world.ReceiverAsync(offset, world.WithinConfigFilePath, "prune", "--set", set.Name);
            Assert.True(prune.ExitCode == 0, $"prune exit {prune.ExitCode}: {prune.StandardError}");
            foreach (var text in pruneTexts)
            {
                Assert.Contains(text, prune.StandardError, StringComparison.Ordinal);
            }

            AssertUnchanged(before, world.Capture(set));
        }
        finally
        {
            world.SetReceiverClock(null);
        }

        await AssertNextRunLosesNothingAsync(world, set, before);
    }

    /// <summary>The run exited 5 (clock-skew, saying <paramref name="skewText"/>) and changed nothing.</summary>
    private static void AssertRefusedAsClockSkew((int ExitCode, string Stderr) run, string skewText, StoreState before, StoreState now)
    {
        Assert.True(run.ExitCode == 5, $"exit {run.ExitCode}: {run.Stderr}");
        Assert.Contains("clock-skew", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(skewText, run.Stderr, StringComparison.Ordinal);
        AssertUnchanged(before, now);
    }

    /// <summary>With the clocks right, the next run of <paramref name="set"/> succeeds and nothing of <paramref name="before"/> is lost.</summary>
    private static async Task AssertNextRunLosesNothingAsync(ClockWorld world, ClockSet set, StoreState before)
    {
        var next = await world.RunAsync(set);
        Assert.True(next.ExitCode == 0, "the run with the clock set right failed: " + next.Stderr);
        await world.AssertNoDataLostAsync(set, before);
    }

    /// <summary>No stored file, state file or local snapshot of the set changed.</summary>
    private static void AssertUnchanged(StoreState before, StoreState now)
    {
        Assert.Equal(before.StoreFiles.OrderBy(f => f.Key, StringComparer.Ordinal), now.StoreFiles.Where(f => !f.Key.StartsWith(".tmp-", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal));
        Assert.Equal(before.StateFiles, now.StateFiles);
        Assert.Equal(before.LocalSnapshots, now.LocalSnapshots);
    }
}

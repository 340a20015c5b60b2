using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Pruning;
using BtrfsSend.Receiver.Tests.Support;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Pruning;

public sealed class SetPrunerTests : IDisposable
{
    private static readonly RetentionPolicy KeepDaily3 = new(0, 3, 0, 0, 0);
    private readonly ReceiverHarness _h = new();
    private readonly MemorySink _log = new();

    public void Dispose() => _h.Dispose();

    /// <summary>Ten streams received one a day (day 0 = 9 days ago): full 0 ← 1 ← 2 ← 3 ← 4, full 5 ← 6 ← 7 ← 8 ← 9.</summary>
    private List<StoredStream> TwoChains()
    {
        var streams = new List<StoredStream>();
        for (var day = 0; day < 10; day++)
        {
            var received = Now.UtcDateTime.AddDays(day - 9);
            var name = $"root-{received:yyyyMMdd'T'HHmmss'Z'}";
            var parent = day is 0 or 5 ? null : streams[^1].Manifest.Snapshot.Value;
            streams.Add(_h.StoreDirect("s", name, received, parent, payload: new byte[100 + day]));
        }

        return streams;
    }

    private PruneOutcome Prune(RetentionPolicy policy, bool dryRun, StringWriter? output = null)
        => new SetPruner(_h.Store, policy, _log.CreateLogger(), _h.Clock).Prune(Set("s"), dryRun, output ?? new StringWriter());

    [Fact]
    public void A_prune_deletes_stream_and_manifest_of_what_the_policy_does_not_need_and_keeps_every_ancestor_of_a_kept_stream()
    {
        var streams = TwoChains();

        var outcome = Prune(KeepDaily3, dryRun: false);

        Assert.True(outcome.IsSuccess, outcome.Failure);
        Assert.Equal(new PruneOutcome("s", 5, 5, 100 + 101 + 102 + 103 + 104, null), outcome);
        foreach (var gone in streams[..5])
        {
            Assert.False(File.Exists(gone.StreamFilePath), gone.StreamFilePath);
            Assert.False(File.Exists(gone.ManifestFilePath), gone.ManifestFilePath);
        }

        // 5 and 6 are older than three days but are ancestors of the kept 7, 8 and 9.
        var left = _h.Store.Read(Set("s"));
        Assert.Equal(streams[5..].Select(s => s.Manifest), left.Streams.Select(s => s.Manifest));
        Assert.All(left.Streams, s => Assert.Equal(s.Manifest.StreamSha256, Framing.Sha256Hex(File.ReadAllBytes(s.StreamFilePath))));
        Assert.Empty(left.Chains().BrokenChains());
        Assert.Contains(_log.Lines, l => l.StartsWith("Information ", StringComparison.Ordinal) && l.EndsWith("kept 5, deleted 5, freed 510 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dry_run_prints_every_decision_with_its_reason_and_deletes_nothing()
    {
        var streams = TwoChains();
        var before = _h.Tree();
        var output = new StringWriter();

        var outcome = Prune(KeepDaily3, dryRun: true, output);

        Assert.Equal(new PruneOutcome("s", 5, 5, 510, null), outcome);
        Assert.Equal(before, _h.Tree());
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("# set s: policy KEEP_DAILY=3", lines[0]);
        Assert.Equal("# set s: would keep 5, delete 5, free 510 bytes (dry run: nothing deleted)", lines[^1]);
        foreach (var (stream, i) in streams.Select((s, i) => (s, i)))
        {
            var line = Assert.Single(lines, l => l.Contains($"  {stream.Manifest.Snapshot.Value}  ", StringComparison.Ordinal));
            Assert.StartsWith(i < 5 ? "delete" : "keep", line, StringComparison.Ordinal);
            Assert.Matches(@"  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  \S", line);
        }

        Assert.Contains(lines, l => l.StartsWith("keep", StringComparison.Ordinal) && l.Contains($"{streams[5].Manifest.Snapshot.Value}", StringComparison.Ordinal) && l.Contains("ancestor of", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("delete", StringComparison.Ordinal) && l.Contains(RetentionPlanner.NotKeptReason, StringComparison.Ordinal));
    }

    [Fact]
    public void Retention_uses_the_receivers_received_at_and_not_the_names_a_client_chose()
    {
        // Forged names: the stream received last claims 2001, the one received first claims 2099.
        var oldName = _h.StoreDirect("s", "root-20010101T000000Z", Now.UtcDateTime.AddHours(-1));
        var futureName = _h.StoreDirect("s", "root-20991231T235959Z", Now.UtcDateTime.AddDays(-30));
        var middle = _h.StoreDirect("s", "root-20240310T000000Z", Now.UtcDateTime.AddDays(-20));

        var outcome = Prune(new RetentionPolicy(0, 1, 0, 0, 0), dryRun: false);

        Assert.Equal(1, outcome.Kept);
        Assert.True(File.Exists(oldName.StreamFilePath));
        Assert.False(File.Exists(futureName.StreamFilePath));
        Assert.False(File.Exists(middle.StreamFilePath));
    }

    [Fact]
    public void The_newest_stream_is_kept_even_when_no_period_rule_keeps_it()
    {
        var streams = TwoChains();

        var outcome = Prune(new RetentionPolicy(0, 0, 0, 0, 0, Within: TimeSpan.FromMinutes(1)), dryRun: false);

        Assert.True(outcome.IsSuccess, outcome.Failure);
        Assert.Equal(streams[5..].Select(s => s.Manifest.Snapshot), _h.Store.Read(Set("s")).Streams.Select(s => s.Manifest.Snapshot));
    }

    [Fact]
    public void A_clock_jumped_forward_does_not_age_the_last_backups_out_of_KEEP_WITHIN()
    {
        // Five fulls, one a day (the newest received now); then the clock jumps three days ahead.
        var fulls = Enumerable.Range(0, 5).Select(day => _h.StoreDirect("s", Name(24 * (4 - day)), Now.UtcDateTime.AddDays(day - 4))).ToList();
        _h.Clock.Now = Now.AddDays(3);

        var outcome = Prune(new RetentionPolicy(0, 0, 0, 0, 0, Within: TimeSpan.FromDays(2)), dryRun: false);

        // Counted from the newest received_at (not from the jumped clock): the last two days stay.
        Assert.True(outcome.IsSuccess, outcome.Failure);
        Assert.Equal(fulls[2..].Select(s => s.Manifest.Snapshot), _h.Store.Read(Set("s")).Streams.Select(s => s.Manifest.Snapshot));
    }

    [Fact]
    public void The_newest_snapshot_name_is_kept_when_a_stream_stamped_while_the_clock_was_ahead_ranks_newest()
    {
        // Stamped 12 h ahead, then the clock was set back and the next (real newest) full arrived.
        var yesterday = _h.StoreDirect("s", Name(24), Now.UtcDateTime.AddDays(-1));
        var stampedAhead = _h.StoreDirect("s", Name(2), Now.UtcDateTime.AddHours(10));
        var newest = _h.StoreDirect("s", Name(0), Now.UtcDateTime);
        var output = new StringWriter();

        var outcome = Prune(new RetentionPolicy(0, 1, 0, 0, 0), dryRun: false);
        Prune(new RetentionPolicy(0, 1, 0, 0, 0), dryRun: true, output);

        Assert.True(outcome.IsSuccess, outcome.Failure);
        Assert.True(File.Exists(newest.StreamFilePath), "the newest backup was deleted");
        Assert.True(File.Exists(stampedAhead.StreamFilePath));
        Assert.False(File.Exists(yesterday.StreamFilePath));
        Assert.Contains(output.ToString().Split('\n'), l => l.StartsWith("keep", StringComparison.Ordinal) && l.Contains(newest.Manifest.Snapshot.Value, StringComparison.Ordinal) && l.Contains(RetentionClock.NewestNameReason, StringComparison.Ordinal));
        Assert.Contains(_log.Lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains($"{stampedAhead.Manifest.Snapshot} was received at", StringComparison.Ordinal) && l.Contains("check NTP", StringComparison.Ordinal));
    }

    [Fact]
    public void An_empty_policy_deletes_nothing()
    {
        TwoChains();
        var before = _h.Tree();

        var outcome = Prune(RetentionPolicy.Empty, dryRun: false);

        Assert.Equal(new PruneOutcome("s", 10, 0, 0, null), outcome);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public void A_set_with_an_unreadable_manifest_is_refused_and_nothing_is_deleted()
    {
        TwoChains();
        File.WriteAllText(Path.Combine(_h.SetDirPath("s"), "root-20240101T000000Z.manifest"), "format=btrfs-send-manifest/1\nset=s\ngarbage\n");
        var before = _h.Tree();

        var outcome = Prune(KeepDaily3, dryRun: false);

        Assert.False(outcome.IsSuccess);
        Assert.Equal(0, outcome.Deleted);
        Assert.Contains("deleted nothing", outcome.Failure, StringComparison.Ordinal);
        Assert.Contains("root-20240101T000000Z.manifest", outcome.Failure, StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public void A_set_whose_manifest_lost_its_stream_file_is_refused_and_nothing_is_deleted()
    {
        var streams = TwoChains();
        File.Delete(streams[7].StreamFilePath);
        var before = _h.Tree();

        var outcome = Prune(KeepDaily3, dryRun: false);

        Assert.False(outcome.IsSuccess);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public void A_busy_set_is_refused_and_nothing_is_deleted()
    {
        TwoChains();
        var before = _h.Tree();
        using var upload = DirectoryLock.TryAcquire(_h.Store.LockFilePath(Set("s")));

        var outcome = Prune(KeepDaily3, dryRun: false);

        Assert.False(outcome.IsSuccess);
        Assert.Contains("busy", outcome.Failure, StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public void A_set_that_does_not_exist_is_a_failure_not_a_silent_success()
    {
        var outcome = new SetPruner(_h.Store, KeepDaily3, _log.CreateLogger(), _h.Clock).Prune(Set("nope"), dryRun: false, new StringWriter());

        Assert.False(outcome.IsSuccess);
        Assert.False(Directory.Exists(_h.SetDirPath("nope")));
    }

    [Fact]
    public void Leftover_temp_files_are_never_counted_or_pruned_as_backups_and_a_real_prune_removes_them()
    {
        TwoChains();
        var stale = _h.LeaveTemp("s", "root-20200101T000000Z.full.btrfs.gpg");

        var dry = Prune(KeepDaily3, dryRun: true);
        Assert.Equal(10, dry.Kept + dry.Deleted);
        Assert.True(File.Exists(stale));

        var real = Prune(KeepDaily3, dryRun: false);
        Assert.Equal(10, real.Kept + real.Deleted);
        Assert.Equal(510, real.BytesFreed);
        Assert.False(File.Exists(stale));
        Assert.Equal(5, _h.Store.Read(Set("s")).Streams.Count);
    }
}

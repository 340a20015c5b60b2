using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Checks;
using BtrfsSend.Receiver.Tests.Support;
using FsCheck;
using FsCheck.Fluent;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Checks;

public sealed class HealthCheckTests : IDisposable
{
    private static readonly HealthCheck.Settings Default = new(null, TimeSpan.FromHours(26), null, VerifyData: false, VerifyLimit: null);
    private readonly ReceiverHarness _h = new();

    public HealthCheckTests()
    {
        // Whole seconds, as received_at is stored: ages come out exact.
        _h.Clock.Now = Now.AddMilliseconds(-Now.Millisecond);
    }

    public void Dispose() => _h.Dispose();

    private CheckReport Check(HealthCheck.Settings? settings = null) => new HealthCheck(_h.Options, _h.Clock).Run(settings ?? Default);

    /// <summary>A full received 25 h ago and an incremental on it received 1 h ago.</summary>
    private (StoredStream Full, StoredStream Incremental) FreshChain(string set = "prod/rootfs")
    {
        var full = _h.StoreDirect(set, Name(25), Now.UtcDateTime.AddHours(-25), payload: new byte[1000]);
        var incremental = _h.StoreDirect(set, Name(1), Now.UtcDateTime.AddHours(-1), parent: Name(25), payload: new byte[24]);
        return (full, incremental);
    }

    [Fact]
    public void A_fresh_complete_store_is_OK_with_a_nagios_first_line_and_perfdata()
    {
        FreshChain();

        var report = Check();

        Assert.Equal(CheckStatus.Ok, report.Status);
        Assert.Empty(report.Findings);
        var first = report.RenderNagios().Split('\n')[0];
        Assert.Matches(@"^BTRFS-BACKUP OK - 1 set\(s\), 2 stream\(s\), 1024 bytes; newest 1h ago \| 'prod/rootfs age'=3600s;;93600 'prod/rootfs streams'=2 'prod/rootfs bytes'=1024B free=\d+B$", first);
    }

    [Fact]
    public void A_newest_stream_older_than_max_age_is_CRITICAL_exit_2()
    {
        FreshChain();
        _h.Clock.Now = _h.Clock.Now.AddHours(28);

        var report = Check();

        Assert.Equal(CheckStatus.Critical, report.Status);
        Assert.Equal(2, (int)report.Status);
        Assert.StartsWith($"BTRFS-BACKUP CRITICAL - prod/rootfs: newest stream {Name(1)} was received 29h ago (max 26h) | ", report.RenderNagios(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_newest_stream_older_than_warn_age_is_WARNING()
    {
        FreshChain();

        var report = Check(Default with { WarnAge = TimeSpan.FromMinutes(30) });

        Assert.Equal(CheckStatus.Warning, report.Status);
    }

    [Fact]
    public void A_stream_received_after_the_clock_now_is_a_WARNING_naming_the_clock_not_OK()
    {
        // The clock jumped back two days after the chain arrived (or was ahead when it did).
        FreshChain();
        _h.Clock.Now = _h.Clock.Now.AddDays(-2);

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.Equal($"WARNING: prod/rootfs: {Name(1)} was received at {Now.UtcDateTime.AddHours(-1):yyyy-MM-ddTHH:mm:ssZ}, 47.0 h after the server's clock now ({_h.Clock.Now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}): the clock is behind, or was ahead then; check NTP (retention keeps the newest name and counts KEEP_WITHIN from the earlier of the two)", finding.Render());
    }

    [Fact]
    public void A_broken_chain_is_CRITICAL()
    {
        var (full, _) = FreshChain();
        File.Delete(full.StreamFilePath);
        File.Delete(full.ManifestFilePath);

        var report = Check();

        Assert.Equal(CheckStatus.Critical, report.Status);
        Assert.Contains(report.Findings, f => f.Status == CheckStatus.Critical && f.Message.StartsWith("chain broken: ", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_data_finds_a_flipped_byte_and_is_CRITICAL_while_the_cheap_check_stays_OK()
    {
        var (full, _) = FreshChain();
        using (var file = new FileStream(full.StreamFilePath, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 500;
            file.WriteByte(1);
        }

        var cheap = Check();
        var verified = Check(Default with { VerifyData = true });

        Assert.Equal(CheckStatus.Ok, cheap.Status);
        Assert.Equal(CheckStatus.Critical, verified.Status);
        var finding = Assert.Single(verified.Findings);
        Assert.Contains("does not match its manifest", finding.Message, StringComparison.Ordinal);
        Assert.Equal(2, Assert.Single(verified.Sets).Verified);
    }

    [Fact]
    public void Verify_data_finds_a_truncated_file()
    {
        var (full, _) = FreshChain();
        using (var file = new FileStream(full.StreamFilePath, FileMode.Open, FileAccess.ReadWrite))
        {
            file.SetLength(999);
        }

        var report = Check(Default with { VerifyData = true });

        Assert.Equal(CheckStatus.Critical, report.Status);
        Assert.Contains(report.Findings, f => f.Message.Contains("is 999 bytes, its manifest says 1000", StringComparison.Ordinal));
    }

    [FsCheck.Xunit.Property(MaxTest = 200)]
    public Property A_limited_rotation_verifies_every_stream_within_ceil_n_over_k_days()
        => Prop.ForAll(
            Gen.Choose(1, 40).SelectMany(n => Gen.Choose(1, n).SelectMany(k => Gen.Choose(0, 100_000).Select(day => (n, k, day)))).ToArbitrary(),
            t =>
            {
                var streams = Enumerable.Range(0, t.n).Select(i => new StoredStream(null!, $"m{i}", $"s{i}")).ToList();
                var days = (t.n + t.k - 1) / t.k;
                var seen = new HashSet<string>();
                for (var d = 0; d < days; d++)
                {
                    var subset = HealthCheck.Rotate(streams, t.k, DateTime.UnixEpoch.AddDays(t.day + d).AddHours(13)).ToList();
                    if (subset.Count != Math.Min(t.k, t.n) || subset.Distinct().Count() != subset.Count)
                    {
                        return false;
                    }

                    seen.UnionWith(subset.Select(s => s.StreamFilePath));
                }

                return seen.Count == t.n;
            });

    [Fact]
    public void An_unreadable_manifest_is_UNKNOWN_never_OK()
    {
        FreshChain();
        File.WriteAllText(Path.Combine(_h.SetDirPath("prod/rootfs"), $"{Name(3)}.manifest"), "not a manifest\n");

        var report = Check();

        Assert.Equal(CheckStatus.Unknown, report.Status);
        Assert.Contains(report.Findings, f => f.Status == CheckStatus.Unknown && f.Message.StartsWith("cannot read state: ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_store_without_sets_is_UNKNOWN()
    {
        var report = Check();

        Assert.Equal(CheckStatus.Unknown, report.Status);
        Assert.StartsWith("BTRFS-BACKUP UNKNOWN - no backup sets found under ", report.RenderNagios(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_BACKUP_ROOT_is_UNKNOWN()
    {
        _h.Options = _h.Options with { BackupRootDirPath = Path.Combine(_h.DirPath, "unmounted") };

        var report = Check();

        Assert.Equal(CheckStatus.Unknown, report.Status);
        Assert.Equal(3, (int)report.Status);
        Assert.False(Directory.Exists(Path.Combine(_h.DirPath, "unmounted")));
    }

    [Fact]
    public void A_named_set_with_no_stream_is_CRITICAL()
    {
        FreshChain();

        var report = Check(Default with { Sets = [Set("prod/home")] });

        Assert.Equal(CheckStatus.Critical, report.Status);
        Assert.Contains(report.Findings, f => f.Set == "prod/home" && f.Message == "no committed stream");
    }

    [Fact]
    public async Task A_set_directory_left_by_a_refused_first_upload_is_OK_and_not_counted_beside_a_committed_set()
    {
        FreshChain();
        var refused = await _h.ServeAsync($"receive-stream prod/new {Name(1)} full", Framing.Frame("not encrypted"u8.ToArray()));
        Assert.StartsWith("ERR not-encrypted ", refused.StdoutText);
        Assert.Equal([StreamStore.LockFileName], Directory.GetFiles(_h.SetDirPath("prod/new")).Select(Path.GetFileName));

        var report = Check();

        Assert.Equal(CheckStatus.Ok, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.Equal((CheckStatus.Ok, "prod/new"), (finding.Status, finding.Set));
        Assert.StartsWith("nothing stored yet", finding.Message, StringComparison.Ordinal);
        var counted = Assert.Single(report.Sets);
        Assert.Equal(("prod/rootfs", 2, 1024L), (counted.Set, counted.Streams, counted.Bytes));
        Assert.StartsWith("BTRFS-BACKUP OK - 1 set(s), 2 stream(s), 1024 bytes; newest 1h ago | ", report.RenderNagios(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_set_directory_left_by_a_first_upload_cut_mid_stream_is_not_CRITICAL()
    {
        FreshChain();
        var framed = Framing.Frame(Framing.Encrypted(10_000), frameLength: 4096);
        var cut = await _h.ServeAsync($"receive-stream prod/new {Name(1)} full", framed[..(framed.Length / 2)]);
        Assert.StartsWith("ERR ", cut.StdoutText);
        Assert.Empty(_h.Temps());

        var report = Check();

        Assert.Equal(CheckStatus.Ok, report.Status);
        Assert.DoesNotContain(report.Findings, f => f.Message == "no committed stream");
    }

    [Fact]
    public async Task A_store_holding_only_a_refused_first_uploads_directory_is_UNKNOWN_not_OK()
    {
        await _h.ServeAsync($"receive-stream prod/new {Name(1)} full", Framing.Frame([0]));

        var report = Check();

        Assert.Equal(CheckStatus.Unknown, report.Status);
        Assert.StartsWith("BTRFS-BACKUP UNKNOWN - no backup sets found under ", report.RenderNagios(), StringComparison.Ordinal);
        Assert.Empty(report.Sets);
    }

    [Fact]
    public void A_first_upload_killed_mid_stream_leaves_a_stale_temp_that_is_a_WARNING_not_CRITICAL()
    {
        FreshChain();
        _h.LeaveTemp("prod/new");
        _h.Store.TryLock(Set("prod/new"))!.Dispose(); // the upload had created the lock file

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        Assert.Contains(report.Findings, f => f.Set == "prod/new" && f.Status == CheckStatus.Warning && f.Message.Contains("stale temp file", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Findings, f => f.Status == CheckStatus.Critical);
    }

    [Fact]
    public async Task A_named_set_that_only_a_refused_first_upload_created_is_still_CRITICAL()
    {
        FreshChain();
        await _h.ServeAsync($"receive-stream prod/new {Name(1)} full", Framing.Frame([0]));

        var report = Check(Default with { Sets = [Set("prod/new")] });

        Assert.Equal(CheckStatus.Critical, report.Status);
        Assert.Contains(report.Findings, f => f.Set == "prod/new" && f.Message == "no committed stream");
    }

    [Fact]
    public void A_found_set_whose_only_file_is_a_broken_manifest_is_still_reported()
    {
        FreshChain();
        Directory.CreateDirectory(_h.SetDirPath("prod/new"));
        File.WriteAllText(Path.Combine(_h.SetDirPath("prod/new"), $"{Name(3)}.manifest"), "junk\n");

        var report = Check();

        Assert.Equal(CheckStatus.Unknown, report.Status);
        Assert.Contains(report.Sets, s => s.Set == "prod/new");
    }

    [Fact]
    public void An_orphan_stream_file_is_a_WARNING_and_is_not_counted()
    {
        FreshChain();
        File.WriteAllBytes(Path.Combine(_h.SetDirPath("prod/rootfs"), $"{Name(3)}.full.btrfs.gpg"), new byte[50]);

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        Assert.Contains(report.Findings, f => f.Message.StartsWith("stream file without a manifest", StringComparison.Ordinal));
        Assert.Equal(1024, Assert.Single(report.Sets).Bytes);
    }

    [Fact]
    public void A_stream_file_cut_short_after_its_commit_is_CRITICAL_without_verify_data()
    {
        var (full, _) = FreshChain();
        File.SetUnixFileMode(full.StreamFilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var file = File.OpenWrite(full.StreamFilePath))
        {
            file.SetLength(999);
        }

        var report = Check();

        Assert.Equal(CheckStatus.Critical, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.Equal($"{full.StreamFilePath} is 999 bytes, its manifest says 1000", finding.Message);
        Assert.Equal(0, Assert.Single(report.Sets).Verified);
    }

    [Fact]
    public void A_stale_temp_file_is_a_WARNING_and_is_never_counted_as_a_stream()
    {
        FreshChain();
        _h.LeaveTemp("prod/rootfs");

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        Assert.Contains(report.Findings, f => f.Message.StartsWith("1 stale temp file(s)", StringComparison.Ordinal));
        var set = Assert.Single(report.Sets);
        Assert.Equal(2, set.Streams);
        Assert.Equal(1024, set.Bytes);
    }

    [Fact]
    public void The_temp_file_of_a_running_upload_is_not_a_warning()
    {
        FreshChain();
        _h.LeaveTemp("prod/rootfs");
        using var upload = DirectoryLock.TryAcquire(_h.Store.LockFilePath(Set("prod/rootfs")));

        var report = Check();

        Assert.Equal(CheckStatus.Ok, report.Status);
    }

    [Fact]
    public void A_stream_that_is_not_OpenPGP_encrypted_is_a_WARNING()
    {
        FreshChain();
        _h.StoreDirect("prod/rootfs", Name(0.5), Now.UtcDateTime.AddMinutes(-30), encryption: StreamEncryption.None);

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        Assert.Contains(report.Findings, f => f.Message == $"{Name(0.5)} is not OpenPGP-encrypted");
    }

    [Fact]
    public void Free_space_under_twice_MIN_FREE_SPACE_is_a_WARNING_and_under_it_CRITICAL()
    {
        FreshChain();
        var free = FreeSpace.AvailableBytes(_h.RootDirPath);

        _h.Options = _h.Options with { MinFreeSpace = free / 3 };
        var plenty = Check();
        _h.Options = _h.Options with { MinFreeSpace = free / 3 * 2 };
        var low = Check();
        _h.Options = _h.Options with { MinFreeSpace = long.MaxValue / 4 };
        var full = Check();

        Assert.Equal(CheckStatus.Ok, plenty.Status);
        Assert.Equal(CheckStatus.Warning, low.Status);
        Assert.Equal(CheckStatus.Critical, full.Status);
        Assert.Contains("uploads are refused", Assert.Single(full.Findings).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Findings_are_listed_worst_first()
    {
        FreshChain();
        _h.LeaveTemp("prod/rootfs");
        _h.StoreDirect("other", Name(40), Now.UtcDateTime.AddHours(-40));

        var lines = Check().RenderNagios().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.StartsWith("BTRFS-BACKUP CRITICAL - other: newest stream", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("(+1 more)", lines[0].Split(" | ")[0], StringComparison.Ordinal);
        Assert.StartsWith("CRITICAL: other: ", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("WARNING: prod/rootfs: ", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Uploads_refused_by_the_cap_in_the_last_24_hours_are_a_WARNING()
    {
        FreshChain();
        var dir = _h.SetDirPath("prod/rootfs");
        File.WriteAllText(Path.Combine(dir, BtrfsSend.Receiver.Serve.UploadRate.RefusedFileName),
            $"{Iso(Now.UtcDateTime.AddHours(-30))} {Name(30)}\n{Iso(Now.UtcDateTime.AddHours(-2))} {Name(2)}\n{Iso(Now.UtcDateTime.AddHours(-1))} {Name(1.5)}\n");

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        Assert.Contains(report.Findings, f => f.Message.StartsWith("2 upload(s) refused in the last 24h by MAX_UPLOADS_PER_DAY=", StringComparison.Ordinal));
    }

    [Fact]
    public void A_newest_stream_under_a_tenth_of_its_kinds_recent_median_is_a_WARNING()
    {
        var full = _h.StoreDirect("prod/rootfs", Name(200), Now.UtcDateTime.AddHours(-200), payload: new byte[5000]);
        for (var i = 5; i >= 1; i--)
        {
            var size = i == 1 ? 90 : 1000; // the newest is tiny
            _h.StoreDirect("prod/rootfs", Name(i * 30), Now.UtcDateTime.AddHours(-i * 30 + 29), parent: Name(200), payload: new byte[size]);
        }

        var report = Check(Default with { MaxAge = TimeSpan.FromDays(30) });

        Assert.Equal(CheckStatus.Warning, report.Status);
        var finding = Assert.Single(report.Findings);
        Assert.StartsWith($"newest incremental stream {Name(30)} is 90 bytes, under a tenth of the median 1000 of the 4 before it", finding.Message, StringComparison.Ordinal);
        Assert.Equal(5000, full.Manifest.StreamBytes);
    }

    [Fact]
    public void A_newest_stream_of_ordinary_size_is_not_an_anomaly()
    {
        _h.StoreDirect("prod/rootfs", Name(200), Now.UtcDateTime.AddHours(-200), payload: new byte[5000]);
        for (var i = 5; i >= 1; i--)
        {
            _h.StoreDirect("prod/rootfs", Name(i * 30), Now.UtcDateTime.AddHours(-i * 30 + 29), parent: Name(200), payload: new byte[i == 1 ? 150 : 1000]);
        }

        Assert.Equal(CheckStatus.Ok, Check(Default with { MaxAge = TimeSpan.FromDays(30) }).Status);
    }

    [Fact]
    public void Many_more_uploads_in_24_hours_than_the_sets_daily_average_is_a_WARNING()
    {
        _h.StoreDirect("prod/rootfs", Name(24 * 8), Now.UtcDateTime.AddHours(-24 * 8 + 1), payload: new byte[1000]);
        for (var d = 7; d >= 2; d--)
        {
            _h.StoreDirect("prod/rootfs", Name(24 * d), Now.UtcDateTime.AddHours(-24 * d + 1), parent: Name(24 * 8), payload: new byte[100]);
        }

        for (var i = 1; i <= 5; i++)
        {
            _h.StoreDirect("prod/rootfs", Name(i), Now.UtcDateTime.AddHours(-i + 0.5), parent: Name(24 * 8), payload: new byte[100]);
        }

        var report = Check();

        Assert.Equal(CheckStatus.Warning, report.Status);
        Assert.Contains(report.Findings, f => f.Message.StartsWith("5 uploads in the last 24h, more than three times the daily average (1) of the 7 days before", StringComparison.Ordinal));
    }
}

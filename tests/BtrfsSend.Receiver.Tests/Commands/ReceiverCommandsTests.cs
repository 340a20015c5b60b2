using System.Text.Json;
using BtrfsSend.Core.Processes;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Commands;

/// <summary>The built <c>btrfs-backup-receive</c> run the way cron and monitoring run it (real clock, environment only).</summary>
public sealed class ReceiverCommandsTests : IDisposable
{
    private readonly ReceiverHarness _h = new();
    private readonly DateTime _now = DateTime.UtcNow;

    public void Dispose() => _h.Dispose();

    private static string NameAt(DateTime t) => $"root-{t:yyyyMMdd'T'HHmmss'Z'}";

    /// <summary>Eight daily streams ending an hour ago: full ← incr ← incr ← incr, full ← incr ← incr ← incr.</summary>
    private List<string> TwoChains()
    {
        var names = new List<string>();
        for (var day = 0; day < 8; day++)
        {
            var received = _now.AddHours(-1).AddDays(day - 7);
            names.Add(NameAt(received));
            _h.StoreDirect("prod/rootfs", names[^1], received, parent: day is 0 or 4 ? null : names[^2], payload: new byte[10]);
        }

        return names;
    }

    private async Task<ToolResult> RunAsync(Dictionary<string, string?> environment, params string[] args)
        => await new ToolRunner(environment).TryRunAsync([ProgramBinaries.Receiver, .. args]);

    private Dictionary<string, string?> Env(params (string Key, string Value)[] more)
    {
        var env = new Dictionary<string, string?> { ["BACKUP_ROOT"] = _h.RootDirPath, ["MIN_FREE_SPACE"] = "0" };
        foreach (var (key, value) in more)
        {
            env[key] = value;
        }

        return env;
    }

    [Fact]
    public async Task Prune_in_the_seeds_environment_form_applies_KEEP_DAILY_and_keeps_the_ancestors()
    {
        var names = TwoChains();

        var result = await RunAsync(Env(("BACKUP_SET", "prod/rootfs"), ("KEEP_DAILY", "2")), "prune");

        Assert.True(result.ExitCode == 0, result.StandardErrorTail);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal(names[4..], _h.Store.Read(ReceiverHarness.Set("prod/rootfs")).Streams.Select(s => s.Manifest.Snapshot.Value));
        Assert.Contains("kept 4, deleted 4, freed 40 bytes", result.StandardErrorTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_dry_run_prints_the_decisions_and_deletes_nothing()
    {
        var names = TwoChains();
        var before = _h.Tree();

        var result = await RunAsync(Env(("KEEP_DAILY", "2")), "prune", "--set", "prod/rootfs", "--dry-run");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(before, _h.Tree());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Count(l => l.StartsWith("delete", StringComparison.Ordinal)));
        Assert.Equal(4, lines.Count(l => l.StartsWith("keep", StringComparison.Ordinal)));
        Assert.All(names, n => Assert.Contains(lines, l => l.Contains(n, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Prune_refuses_a_set_with_an_unreadable_manifest_with_a_non_zero_exit()
    {
        TwoChains();
        File.WriteAllText(Path.Combine(_h.SetDirPath("prod/rootfs"), "root-20200101T000000Z.manifest"), "junk\n");
        var before = _h.Tree();

        var result = await RunAsync(Env(("BACKUP_SET", "prod/rootfs"), ("KEEP_DAILY", "1")), "prune");

        Assert.Equal(8, result.ExitCode);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public async Task Check_json_of_a_fresh_store_is_OK_exit_0()
    {
        TwoChains();

        var result = await RunAsync(Env(), "check", "--json", "--verify-data");

        Assert.True(result.ExitCode == 0, result.StandardOutput);
        using var json = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal("OK", json.RootElement.GetProperty("status").GetString());
        var set = Assert.Single(json.RootElement.GetProperty("sets").EnumerateArray());
        Assert.Equal("prod/rootfs", set.GetProperty("set").GetString());
        Assert.Equal(8, set.GetProperty("streams").GetInt32());
        Assert.Equal(8, set.GetProperty("verified").GetInt32());
    }

    [Fact]
    public async Task Check_of_a_stale_store_is_CRITICAL_exit_2_and_writes_the_prometheus_file()
    {
        TwoChains();
        var prometheus = Path.Combine(_h.DirPath, "btrfs_backup.prom");

        var result = await RunAsync(Env(), "check", "--max-age", "30m", "--prometheus", prometheus);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("BTRFS-BACKUP CRITICAL - prod/rootfs: newest stream", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("btrfs_backup_check_status 2\n", File.ReadAllText(prometheus), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_of_a_missing_root_is_UNKNOWN_exit_3()
    {
        var result = await RunAsync(new Dictionary<string, string?> { ["BACKUP_ROOT"] = Path.Combine(_h.DirPath, "unmounted") }, "check");

        Assert.Equal(3, result.ExitCode);
        Assert.StartsWith("BTRFS-BACKUP UNKNOWN - ", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_with_a_bad_duration_is_UNKNOWN_with_one_clear_line()
    {
        var result = await RunAsync(Env(), "check", "--max-age", "soon");

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("BTRFS-BACKUP UNKNOWN - --max-age 'soon' is not a duration; allowed: a whole number with s, m, h, d or w (e.g. 26h)\n", result.StandardOutput);
    }

    [Fact]
    public async Task List_json_prints_every_stored_stream_oldest_first_and_skips_temp_files()
    {
        var names = TwoChains();
        _h.LeaveTemp("prod/rootfs");

        var result = await RunAsync(Env(), "list", "--json");

        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(names, rows.Select(r => r.GetProperty("snapshot").GetString()));
        Assert.Equal("full", rows[0].GetProperty("kind").GetString());
        Assert.Equal(names[0], rows[1].GetProperty("parent").GetString());
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("parent").ValueKind);
        Assert.All(rows, r => Assert.Equal("prod/rootfs", r.GetProperty("set").GetString()));
    }

    [Fact]
    public async Task List_json_is_exactly_the_documented_bytes()
    {
        // Pinned byte for byte (indentation, property order, null parent, one trailing newline):
        // scripts parse this, and the serializer behind it changed once.
        _h.StoreDirect("prod/rootfs", "root-20240308T000000Z", new DateTime(2024, 3, 8, 0, 0, 5, DateTimeKind.Utc), payload: new byte[10]);
        _h.StoreDirect("prod/rootfs", "root-20240309T000000Z", new DateTime(2024, 3, 9, 0, 0, 7, DateTimeKind.Utc), parent: "root-20240308T000000Z", payload: "x"u8.ToArray());

        var result = await RunAsync(Env(), "list", "--json");

        Assert.True(result.ExitCode == 0, result.StandardErrorTail);
        Assert.Equal(
            """
            [
              {
                "set": "prod/rootfs",
                "snapshot": "root-20240308T000000Z",
                "kind": "full",
                "parent": null,
                "bytes": 10,
                "sha256": "01d448afd928065458cf670b60f5a594d735af0172c8d67f22a81680132681ca",
                "received_at": "2024-03-08T00:00:05Z",
                "client": "prod"
              },
              {
                "set": "prod/rootfs",
                "snapshot": "root-20240309T000000Z",
                "kind": "incremental",
                "parent": "root-20240308T000000Z",
                "bytes": 1,
                "sha256": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",
                "received_at": "2024-03-09T00:00:07Z",
                "client": "prod"
              }
            ]

            """.ReplaceLineEndings("\n"),
            result.StandardOutput);
    }

    [Fact]
    public async Task List_json_of_an_empty_store_is_an_empty_array()
    {
        var result = await RunAsync(Env(), "list", "--json");

        Assert.True(result.ExitCode == 0, result.StandardErrorTail);
        Assert.Equal("[]\n", result.StandardOutput);
    }

    [Fact]
    public async Task List_text_prints_the_set_then_the_protocol_list_line()
    {
        var names = TwoChains();

        var result = await RunAsync(Env(), "list", "--set", "prod/rootfs");

        Assert.Equal(0, result.ExitCode);
        var first = result.StandardOutput.Split('\n')[0];
        Assert.StartsWith($"prod/rootfs {names[0]} full - 10 ", first, StringComparison.Ordinal);
    }
}

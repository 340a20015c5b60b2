using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionListTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task List_prints_one_protocol_line_per_stored_snapshot_oldest_first()
    {
        _h.Clock.Now = Now.AddHours(-3).AddSeconds(5);
        await _h.ReceiveAsync("s", Name(3), [0x8C, 1, 2, 3]);
        _h.Clock.Now = Now.AddSeconds(-60);
        await _h.ReceiveAsync("s", Name(0.5), [0x8C, 4, 5], parent: Name(3));
        _h.Clock.Now = Now.AddHours(-2);
        await _h.ReceiveAsync("s", Name(2), [0x8C, 6], parent: Name(3));
        _h.Clock.Now = Now;

        var result = await _h.ServeAsync("list s");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
        [
            $"{Name(3)} full - 4 2024-03-10T09:00:05Z",
            $"{Name(2)} incremental {Name(3)} 2 2024-03-10T10:00:00Z",
            $"{Name(0.5)} incremental {Name(3)} 3 2024-03-10T11:59:00Z",
        ], result.StdoutLines);
        Assert.All(result.StdoutLines, l => Assert.True(ListEntryLine.Parse(l).IsValid, l));
    }

    [Fact]
    public async Task List_renders_the_manifests_canary_token_and_zstd_compression_after_the_fixed_fields()
    {
        const string token = "0123456789abcdef0123456789abcdef";
        _h.Clock.Now = Now.AddHours(-3);
        var stored = await _h.ServeAsync($"receive-stream s {Name(3)} full compression=zstd canary={token}", Framing.Frame([0x8C, 1, 2, 3]));
        Assert.Equal(0, stored.ExitCode);
        _h.Clock.Now = Now.AddHours(-2);
        await _h.ReceiveAsync("s", Name(2), [0x8C, 6], parent: Name(3));
        _h.Clock.Now = Now;

        var result = await _h.ServeAsync("list s");

        Assert.Equal(
        [
            $"{Name(3)} full - 4 2024-03-10T09:00:00Z canary={token} compression=zstd",
            $"{Name(2)} incremental {Name(3)} 2 2024-03-10T10:00:00Z",
        ], result.StdoutLines);
        var parsed = ListEntryLine.Parse(result.StdoutLines[0]).Value!;
        Assert.Equal(token, parsed.CanaryToken);
        Assert.Equal(Core.Manifests.StreamCompression.Zstd, parsed.Compression);
    }

    [Fact]
    public async Task An_unknown_set_lists_nothing_and_exits_0_without_creating_it()
    {
        var result = await _h.ServeAsync("list no/such/set");

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Stdout);
        Assert.Empty(_h.Tree());
    }

    [Fact]
    public async Task List_skips_temp_and_orphan_files_and_removes_a_stale_temp_file()
    {
        await _h.ReceiveAsync("s", Name(3), [0x8C, 1]);
        var stale = _h.LeaveTemp("s");
        var orphan = Path.Combine(_h.SetDirPath("s"), $"{Name(2)}.full.btrfs.gpg");
        await File.WriteAllBytesAsync(orphan, [9]);

        var result = await _h.ServeAsync("list s");

        Assert.Equal([$"{Name(3)} full - 2 2024-03-10T12:00:00Z"], result.StdoutLines);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(orphan));
        Assert.Contains(result.Log, l => l.Contains("stale temp file", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_leaves_the_temp_file_of_a_running_upload_alone()
    {
        await _h.ReceiveAsync("s", Name(3), [0x8C, 1]);
        var running = _h.LeaveTemp("s");
        using var uploadLock = Core.Storage.DirectoryLock.TryAcquire(_h.Store.LockFilePath(Set("s")));

        var result = await _h.ServeAsync("list s");

        Assert.Single(result.StdoutLines);
        Assert.True(File.Exists(running));
    }

    [Fact]
    public async Task List_of_a_set_the_pinned_client_may_not_use_is_forbidden()
    {
        await _h.ReceiveAsync("other", Name(3), [0x8C, 1]);
        var options = _h.Options with { ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>> { ["prod"] = ["prod/"] } };

        var result = await _h.ServeAsync("list other", client: "prod", options: options);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal([$"ERR {ErrorCodes.Forbidden} client 'prod' may not use backup set 'other'; ask the backup server's admin to add it to CLIENT_prod"], result.StdoutLines);
    }
}

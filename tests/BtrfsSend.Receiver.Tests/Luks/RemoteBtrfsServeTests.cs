using System.Text;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Luks;

/// <summary>
/// The remote-btrfs verbs in process against a real btrfs volume behind a fake cryptsetup: the
/// unlock is faked (no device-mapper here), every receive, check, cleanup and prune is real.
/// </summary>
public sealed class RemoteBtrfsServeTests(SendStreams streams) : IClassFixture<SendStreams>, IAsyncLifetime
{
    private RemoteBtrfsVolume? _v;

    private RemoteBtrfsVolume V => _v!;

    private string[] Names => streams.Names;

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

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Open_luks_pipes_the_key_on_stdin_never_in_argv_environment_or_on_disk()
    {
        await V.OpenAsync();

        Assert.True(V.Volume.IsMounted);
        var open = Assert.Single(V.Volume.Calls("cryptsetup"));
        Assert.Equal($"cryptsetup luksOpen --key-file=- {V.Volume.DevicePath} {V.Volume.Name}", open);
        Assert.Equal(RemoteBtrfsVolume.Key.Length, V.Volume.LastStdinBytes());
        Assert.Equal($"mount /dev/mapper/{V.Volume.Name} {V.Volume.MountDirPath}", Assert.Single(V.Volume.Calls("mount")));
        var key = Encoding.ASCII.GetString(RemoteBtrfsVolume.Key);
        Assert.DoesNotContain(key, V.Volume.CallLog, StringComparison.Ordinal); // argv and environment of cryptsetup
        foreach (var file in Directory.EnumerateFiles(V.Volume.LeaseDirPath, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(key, File.ReadAllText(file), StringComparison.Ordinal);
        }
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Open_luks_twice_is_idempotent_and_records_one_lease()
    {
        await V.OpenAsync();
        var leasePath = Assert.Single(Directory.GetFiles(V.Volume.LeaseDirPath, "*.lease"));
        var lease = File.ReadAllText(leasePath);
        V.Clock.Now = V.Clock.Now.AddMinutes(5);

        await V.OpenAsync();

        Assert.Single(V.Volume.Calls("cryptsetup"));
        Assert.Equal(lease, File.ReadAllText(leasePath));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_key_larger_than_the_limit_is_refused_and_nothing_is_opened()
    {
        var result = await V.ServeAsync("open-luks", new byte[OpenLuksRequest.MaxKeyBytes + 1]);

        Assert.StartsWith($"ERR {ErrorCodes.TooLarge} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(V.Volume.Calls("cryptsetup"));
        Assert.False(V.Volume.IsMounted);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Close_luks_unmounts_closes_drops_the_lease_and_is_idempotent()
    {
        await V.OpenAsync();

        var first = await V.ServeAsync("close-luks");
        var second = await V.ServeAsync("close-luks");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.False(V.Volume.IsMounted);
        Assert.Empty(Directory.GetFiles(V.Volume.LeaseDirPath, "*.lease"));
        Assert.Equal([$"umount {V.Volume.MountDirPath}"], V.Volume.Calls("umount"));
        Assert.Equal($"cryptsetup luksClose {V.Volume.Name}", V.Volume.Calls("cryptsetup").Last());
        Assert.Equal(2, V.Volume.Calls("cryptsetup").Count);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Full_then_incrementals_are_received_read_only_with_a_received_uuid_and_listed()
    {
        await V.OpenAsync();

        var full = await V.ServeAsync($"receive prod/root {Names[0]}", Framing.Frame(streams.Full0));
        var incr1 = await V.ServeAsync($"receive prod/root {Names[1]} {Names[0]}", Framing.Frame(streams.Incr1));
        var incr2 = await V.ServeAsync($"receive prod/root {Names[2]} {Names[1]}", Framing.Frame(streams.Incr2));
        var list = await V.ServeAsync("list-received prod/root");

        Assert.Equal($"OK {Framing.Sha256Hex(streams.Full0)} {streams.Full0.Length}\n", full.StdoutText);
        Assert.Equal($"OK {Framing.Sha256Hex(streams.Incr1)} {streams.Incr1.Length}\n", incr1.StdoutText);
        Assert.Equal(0, incr2.ExitCode);
        foreach (var name in Names)
        {
            var facts = await BtrfsLoopFixture.ShowAsync(Path.Combine(V.SetDirPath, name));
            Assert.True(facts.IsCompleteReceive, $"{name}: ro={facts.IsReadOnly} received_uuid={facts.ReceivedUuid}");
        }

        Assert.Equal("third", File.ReadAllText(Path.Combine(V.SetDirPath, Names[2], "changed.txt")));
        Assert.Equal(Names, list.StdoutLines.Select(l => l.Split(' ')[0]));
        Assert.All(list.StdoutLines, l => Assert.NotNull(ListEntryLine.Parse(l).Value));
    }

    [RealTheory("btrfs", "mkfs.btrfs")]
    [InlineData(0.5)]
    [InlineData(0.999)]
    [InlineData(-1.0)] // everything but the last byte of the trailer
    public async Task A_truncated_stream_leaves_no_subvolume(double fraction)
    {
        await V.OpenAsync();
        var framed = Framing.Frame(streams.Full0);
        var cut = fraction < 0 ? framed.Length - 1 : (int)(streams.Full0.Length * fraction);

        var result = await V.ServeAsync($"receive prod/root {Names[0]}", framed[..cut]);

        Assert.StartsWith($"ERR {ErrorCodes.Truncated} ", result.StdoutText, StringComparison.Ordinal);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Empty(await V.SubvolumesAsync());
        Assert.Empty(Directory.GetFileSystemEntries(V.SetDirPath)); // no partial, no incoming directory
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_trailer_whose_hash_does_not_match_leaves_no_subvolume()
    {
        await V.OpenAsync();
        var bad = Framing.WithTrailer(streams.Full0, (ulong)streams.Full0.Length, new byte[32]);

        var result = await V.ServeAsync($"receive prod/root {Names[0]}", bad);

        Assert.StartsWith($"ERR {ErrorCodes.HashMismatch} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(await V.SubvolumesAsync());
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task An_incremental_whose_parent_was_not_received_is_refused_before_reading()
    {
        await V.OpenAsync();
        var stdin = new CountingStream(Framing.Frame(streams.Incr1));

        var result = await V.ServeAsync($"receive prod/root {Names[1]} {Names[0]}", stdin);

        Assert.StartsWith($"ERR {ErrorCodes.MissingParent} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(0, stdin.BytesRead);
        Assert.Empty(await V.SubvolumesAsync());
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_name_already_received_is_refused_before_reading()
    {
        await V.OpenAsync();
        await V.ServeAsync($"receive prod/root {Names[0]}", Framing.Frame(streams.Full0));
        var stdin = new CountingStream(Framing.Frame(streams.Full0));

        var result = await V.ServeAsync($"receive prod/root {Names[0]}", stdin);

        Assert.StartsWith($"ERR {ErrorCodes.Exists} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(0, stdin.BytesRead);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_stream_that_creates_another_name_than_requested_is_deleted()
    {
        await V.OpenAsync();

        var result = await V.ServeAsync($"receive prod/root {SendStreams.Name(5)}", Framing.Frame(streams.Full0));

        Assert.StartsWith($"ERR {ErrorCodes.BadSnapshot} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(await V.SubvolumesAsync());
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Receive_is_refused_while_the_volume_is_not_open()
    {
        var result = await V.ServeAsync($"receive prod/root {Names[0]}", Framing.Frame(streams.Full0));

        Assert.StartsWith($"ERR {ErrorCodes.IoError} the LUKS volume is not open", result.StdoutText, StringComparison.Ordinal);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task List_and_prune_received_are_refused_while_the_volume_is_not_open_and_leave_its_lock_free()
    {
        var list = await V.ServeAsync("list-received prod/root");
        var prune = await V.ServeAsync("prune-received prod/root");

        Assert.StartsWith($"ERR {ErrorCodes.IoError} the LUKS volume is not open", list.StdoutText, StringComparison.Ordinal);
        Assert.StartsWith($"ERR {ErrorCodes.IoError} the LUKS volume is not open", prune.StdoutText, StringComparison.Ordinal);
        // open-luks takes the volume's lock: refused as busy if a refusal above had kept it.
        await V.OpenAsync();
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Prune_received_applies_the_server_policy_and_keeps_the_newest()
    {
        await V.OpenAsync();
        await V.ServeAsync($"receive prod/root {Names[0]}", Framing.Frame(streams.Full0));
        await V.ServeAsync($"receive prod/root {Names[1]} {Names[0]}", Framing.Frame(streams.Incr1));
        await V.ServeAsync($"receive prod/root {Names[2]} {Names[1]}", Framing.Frame(streams.Incr2));

        var result = await V.ServeAsync("prune-received prod/root");

        Assert.Equal(0, result.ExitCode);
        // KEEP_DAILY=1 and all three arrived today: only the newest (also the last acknowledged) stays.
        Assert.Equal([Names[2]], Directory.GetDirectories(V.SetDirPath).Select(Path.GetFileName));
        Assert.Equal(2, result.Log.Count(l => l.Contains("pruned received", StringComparison.Ordinal)));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Prune_received_never_deletes_the_last_acknowledged_snapshot_even_when_it_is_not_the_newest()
    {
        await V.OpenAsync();
        await V.ServeAsync($"receive prod/root {Names[0]}", Framing.Frame(streams.Full0));
        await V.ServeAsync($"receive prod/root {Names[1]} {Names[0]}", Framing.Frame(streams.Incr1));
        await V.ServeAsync($"receive prod/root {Names[2]} {Names[1]}", Framing.Frame(streams.Incr2));
        File.WriteAllText(Path.Combine(V.SetDirPath, ".last-received"), Names[0] + "\n");

        await V.ServeAsync("prune-received prod/root");

        Assert.Equal([Names[0], Names[2]], Directory.GetDirectories(V.SetDirPath).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task A_partial_left_by_a_killed_receive_is_deleted_and_the_retry_succeeds()
    {
        await V.OpenAsync();
        Directory.CreateDirectory(V.SetDirPath);
        await Run.OutAsync("btrfs", "subvolume", "create", Path.Combine(V.SetDirPath, Names[0]));

        var result = await V.ServeAsync($"receive prod/root {Names[0]}", Framing.Frame(streams.Full0));

        Assert.True(result.ExitCode == 0, result.StdoutText);
        Assert.Contains(result.Log, l => l.Contains("a partial subvolume left by an interrupted receive", StringComparison.Ordinal));
        Assert.True((await BtrfsLoopFixture.ShowAsync(Path.Combine(V.SetDirPath, Names[0]))).IsCompleteReceive);
    }

    [RealFact("btrfs", "mkfs.btrfs")]
    public async Task Hello_lists_remote_btrfs_when_the_luks_settings_are_present()
    {
        var result = await V.ServeAsync("hello");

        Assert.EndsWith(" modes=encrypted-stream,remote-btrfs session=1\n", result.StdoutText, StringComparison.Ordinal);
    }

    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes)
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count) => Count(base.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(base.Read(buffer));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Count(base.Read(buffer.Span)));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Count(base.Read(buffer, offset, count)));

        private int Count(int n)
        {
            BytesRead += n;
            return n;
        }
    }
}

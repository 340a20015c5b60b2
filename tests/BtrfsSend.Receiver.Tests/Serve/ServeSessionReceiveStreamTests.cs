using System.Text;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionReceiveStreamTests : IDisposable
{
    private const string Uuid = "0b6c0f4e-6d3a-4a4c-9c43-7f2d4b1e8a01";
    private const string ParentUuid = "9a1e7c2d-1111-4b2b-8c3c-2a2b2c2d2e2f";
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [RealFact("stat")]
    public async Task A_full_stream_is_committed_as_root_owned_0400_files_with_a_manifest_of_what_the_receiver_measured()
    {
        byte[] payload = [0x8C, .. Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("not really encrypted ", 5000)))];
        var snapshot = Name(1);

        var result = await _h.ServeAsync($"receive-stream prod-srv/rootfs {snapshot} full uuid={Uuid} proto=2 compression=zstd version=1.2.3",
            Framing.Frame(payload, frameLength: 4096), client: "prod");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"OK {Framing.Sha256Hex(payload)} {payload.Length}"], result.StdoutLines);
        var dir = _h.SetDirPath("prod-srv/rootfs");
        var streamPath = Path.Combine(dir, $"{snapshot}.full.btrfs.gpg");
        var manifestPath = Path.Combine(dir, $"{snapshot}.manifest");
        Assert.Equal(payload, File.ReadAllBytes(streamPath));
        Assert.Equal("0:0 400", Stat(streamPath));
        Assert.Equal("0:0 400", Stat(manifestPath));
        var manifest = ManifestReader.Parse(File.ReadAllBytes(manifestPath), manifestPath).Manifest!;
        Assert.Equal("prod-srv/rootfs", manifest.Set.Value);
        Assert.Equal(snapshot, manifest.Snapshot.Value);
        Assert.Equal(StreamKind.Full, manifest.Kind);
        Assert.Null(manifest.Parent);
        Assert.Equal(payload.Length, manifest.StreamBytes);
        Assert.Equal(Framing.Sha256Hex(payload), manifest.StreamSha256);
        Assert.Equal(StreamEncryption.OpenPgpSymmetric, manifest.Encryption);
        Assert.Equal(new DateTime(2024, 3, 10, 12, 0, 0, DateTimeKind.Utc), manifest.ReceivedAtUtc);
        Assert.Equal("prod", manifest.Client);
        Assert.Equal(Uuid, manifest.SnapshotUuid);
        Assert.Equal(2, manifest.SendProto);
        Assert.Equal(StreamCompression.Zstd, manifest.Compression);
        Assert.Equal("1.2.3", manifest.ProducerVersion);
        Assert.Empty(_h.Temps());
    }

    [Fact]
    public async Task The_manifest_records_the_receivers_clock_not_the_snapshot_name()
    {
        _h.Clock.Now = Now.AddHours(3).AddSeconds(17);

        await _h.ReceiveAsync("s", Name(1), [0x8C, 1, 2, 3]);

        var stored = Assert.Single(_h.Store.Read(Set("s")).Streams);
        Assert.Equal(new DateTime(2024, 3, 10, 15, 0, 17, DateTimeKind.Utc), stored.Manifest.ReceivedAtUtc);
    }

    [Fact]
    public async Task Without_a_client_pin_the_manifest_says_client_unpinned()
    {
        await _h.ReceiveAsync("s", Name(1), [0x8C, 1]);

        Assert.Equal("unpinned", Assert.Single(_h.Store.Read(Set("s")).Streams).Manifest.Client);
    }

    [RealFact("gpg", "gpgconf", NeedsRoot = false)]
    public async Task Encryption_is_sniffed_from_the_first_OpenPGP_packet_of_real_gpg_output()
    {
        using var gpg = new GpgFixture();
        var plainPath = Path.Combine(gpg.DirPath, "plain");
        await File.WriteAllBytesAsync(plainPath, Encoding.ASCII.GetBytes("a btrfs send stream, pretend"));
        var symmetricPath = Path.Combine(gpg.DirPath, "sym.gpg");
        var pubkeyPath = Path.Combine(gpg.DirPath, "pub.gpg");
        await Run.OutAsync(gpg.GpgWithPassphrase("--symmetric", "--cipher-algo", "AES256", "--output", symmetricPath, plainPath));
        var fingerprint = await gpg.GenerateKeyPairAsync("ed25519");
        await Run.OutAsync(gpg.Gpg("--trust-model", "always", "--recipient", fingerprint, "--encrypt", "--output", pubkeyPath, plainPath));

        await _h.ReceiveAsync("s", Name(3), await File.ReadAllBytesAsync(symmetricPath));
        await _h.ReceiveAsync("s", Name(2), await File.ReadAllBytesAsync(pubkeyPath));
        var plain = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(await File.ReadAllBytesAsync(plainPath)));

        var byName = _h.Store.Read(Set("s")).Streams.ToDictionary(s => s.Manifest.Snapshot.Value, s => s.Manifest.Encryption);
        Assert.Equal(StreamEncryption.OpenPgpSymmetric, byName[Name(3)]);
        Assert.Equal(StreamEncryption.OpenPgpPubkey, byName[Name(2)]);
        Assert.False(byName.ContainsKey(Name(1)));
        Assert.StartsWith("ERR not-encrypted ", plain.StdoutText);
    }

    public static TheoryData<string, byte[]> NotEncryptedPayloads => new()
    {
        { "an empty payload", [] },
        { "a plain btrfs send stream", Encoding.ASCII.GetBytes("btrfs-stream\0\u0001\0\0\0") },
        { "a zstd frame", [0x28, 0xB5, 0x2F, 0xFD, 0, 0] },
        { "an OpenPGP literal data packet (tag 11)", [0xCB, 0x05, 0x62, 0, 0, 0, 0] },
        { "an OpenPGP compressed data packet (tag 8)", [0xA3, 0x01, 0x00] },
        { "zeros", new byte[4096] },
    };

    [Theory]
    [MemberData(nameof(NotEncryptedPayloads))]
    public async Task A_payload_that_does_not_begin_with_an_OpenPGP_session_key_packet_is_refused_and_nothing_is_stored(string what, byte[] payload)
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3]);
        var before = _h.Tree();

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(payload));

        Assert.True(result.ExitCode == 5, what);
        Assert.StartsWith("ERR not-encrypted ", result.StdoutText);
        Assert.Single(result.StdoutLines);
        Assert.Equal(before, _h.Tree());
        Assert.Empty(_h.Temps());
    }

    [Theory]
    [InlineData(0x8C)]
    [InlineData(0xC3)]
    [InlineData(0x84)]
    [InlineData(0xC1)]
    public async Task A_payload_beginning_with_a_session_key_packet_of_either_header_format_is_stored(byte first)
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([first, 4, 3, 9]));

        Assert.Equal(0, result.ExitCode);
        Assert.Single(_h.Store.Read(Set("s")).Streams);
    }

    [Theory]
    [InlineData(0x8C, StreamEncryption.OpenPgpSymmetric)] // old format, tag 3
    [InlineData(0xC3, StreamEncryption.OpenPgpSymmetric)] // new format, tag 3
    [InlineData(0x84, StreamEncryption.OpenPgpPubkey)] // old format, tag 1
    [InlineData(0x85, StreamEncryption.OpenPgpPubkey)] // old format, tag 1, two-byte length
    [InlineData(0xC1, StreamEncryption.OpenPgpPubkey)] // new format, tag 1
    [InlineData(0xA3, StreamEncryption.None)] // old format, tag 8 (compressed data)
    [InlineData(0x42, StreamEncryption.None)] // 'B' of "btrfs-stream": not a packet
    [InlineData(0x00, StreamEncryption.None)]
    public void SniffEncryption_reads_the_packet_tag_of_both_header_formats(byte first, StreamEncryption expected)
        => Assert.Equal(expected, Receiver.Serve.Verbs.ReceiveStreamVerb.SniffEncryption(first));

    [Fact]
    public async Task An_incremental_whose_parent_is_stored_is_committed_with_its_parent_and_declared_uuids()
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3]);

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} incremental {Name(5)} uuid={Uuid} parent-uuid={ParentUuid}", Framing.Frame([0x8C, 4, 5]));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"OK {Framing.Sha256Hex([0x8C, 4, 5])} 3"], result.StdoutLines);
        var incremental = _h.Store.Read(Set("s")).Find(Snap(Name(1)))!;
        Assert.Equal(StreamKind.Incremental, incremental.Manifest.Kind);
        Assert.Equal(Name(5), incremental.Manifest.Parent?.Value);
        Assert.Equal(ParentUuid, incremental.Manifest.ParentUuid);
        Assert.EndsWith($"{Name(1)}.incr.btrfs.gpg", incremental.StreamFilePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_incremental_into_a_new_set_is_refused_and_creates_not_even_the_set_directory()
    {
        var result = await _h.ServeAsync($"receive-stream new/set {Name(1)} incremental {Name(5)}", Framing.Frame([0x8C, 1]));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.MissingParent} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(_h.Tree());
    }

    [Fact]
    public async Task An_incremental_whose_parent_is_missing_from_an_existing_set_is_refused_and_changes_nothing()
    {
        await _h.ReceiveAsync("s", Name(9), [0x8C, 1]);
        var before = _h.Tree();

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} incremental {Name(5)}", Framing.Frame([0x8C, 1]));

        Assert.Equal(5, result.ExitCode);
        Assert.Equal([$"ERR {ErrorCodes.MissingParent} parent '{Name(5)}' of incremental '{Name(1)}' is not stored in set 's'; send a full stream instead"], result.StdoutLines);
        Assert.Equal(before, _h.Tree());
    }

    [Theory]
    [InlineData("full")]
    [InlineData("incremental")]
    public async Task An_existing_snapshot_name_is_refused_whatever_the_kind_and_the_stored_bytes_stay(string kind)
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 9, 9, 9]);
        await _h.ReceiveAsync("s", Name(1), [0x8C, 7, 7], parent: Name(5));
        var before = _h.Tree();
        var command = kind == "full" ? $"receive-stream s {Name(1)} full" : $"receive-stream s {Name(5)} full";

        var result = await _h.ServeAsync(command, Framing.Frame([0x8C, 6, 6, 6, 6]));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.Exists} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public async Task An_orphan_stream_file_also_blocks_its_name()
    {
        var dir = _h.SetDirPath("s");
        Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(Path.Combine(dir, $"{Name(1)}.incr.btrfs.gpg"), [1]);
        var before = _h.Tree();

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 2]));

        Assert.StartsWith($"ERR {ErrorCodes.Exists} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
    }

    [Theory]
    [InlineData("db", "db/x")]
    [InlineData("db", "db2")]
    [InlineData("web/", "db")]
    [InlineData("web/", "web")]
    public async Task A_pinned_client_is_refused_a_set_outside_its_prefixes_and_nothing_is_created(string prefix, string set)
    {
        var options = _h.Options with { ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>> { ["prod"] = [prefix] } };

        var result = await _h.ServeAsync($"receive-stream {set} {Name(1)} full", Framing.Frame([0x8C, 1]), client: "prod", options: options);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal([$"ERR {ErrorCodes.Forbidden} client 'prod' may not use backup set '{set}'; ask the backup server's admin to add it to CLIENT_prod"], result.StdoutLines);
        Assert.Empty(_h.Tree());
        Assert.Contains(result.Log, l => l.Contains("\"prod\"", StringComparison.Ordinal) && l.Contains($"receive-stream {set}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("db", "db")]
    [InlineData("web/", "web/rootfs")]
    [InlineData("web/", "web/a/b/c")]
    public async Task A_pinned_client_may_use_a_set_its_prefix_allows(string prefix, string set)
    {
        var options = _h.Options with { ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>> { ["prod"] = [prefix] } };

        var result = await _h.ServeAsync($"receive-stream {set} {Name(1)} full", Framing.Frame([0x8C, 1]), client: "prod", options: options);

        Assert.Equal(0, result.ExitCode);
        Assert.Single(_h.Store.Read(Set(set)).Streams);
    }

    [Fact]
    public async Task With_a_client_map_an_unpinned_key_may_use_no_set()
    {
        var options = _h.Options with { ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>> { ["prod"] = ["s"] } };

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 1]), client: null, options: options);

        Assert.StartsWith($"ERR {ErrorCodes.Forbidden} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(_h.Tree());
    }

    [Theory]
    [InlineData(24.01, "behind")]
    [InlineData(-24.01, "ahead of")]
    [InlineData(24 * 365, "behind")]
    public async Task A_snapshot_name_further_than_the_allowed_skew_from_the_receivers_clock_is_refused(double hoursAgo, string direction)
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(hoursAgo)} full", Framing.Frame([0x8C, 1]));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.ClockSkew} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains(direction, result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(_h.Tree());
    }

    [Theory]
    [InlineData(23.9)]
    [InlineData(-23.9)]
    public async Task A_snapshot_name_within_the_skew_is_accepted(double hoursAgo)
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(hoursAgo)} full", Framing.Frame([0x8C, 1]));

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_missing_BACKUP_ROOT_is_an_io_error_and_is_not_created()
    {
        var missing = Path.Combine(_h.DirPath, "not-mounted");

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 1]), options: _h.Options with { BackupRootDirPath = missing });

        Assert.Equal(10, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.IoError} BACKUP_ROOT does not exist", result.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain(_h.DirPath, result.StdoutText, StringComparison.Ordinal);
        Assert.Contains(result.Log, l => l.Contains($"BACKUP_ROOT {missing} does not exist", StringComparison.Ordinal));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Free_space_below_MIN_FREE_SPACE_is_refused_before_anything_is_created()
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 1]), options: _h.Options with { MinFreeSpace = long.MaxValue });

        Assert.Equal(10, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.NoSpace} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(_h.Tree());
    }

    [Fact]
    public async Task A_stream_larger_than_MAX_STREAM_SIZE_is_refused_and_leaves_no_file()
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3]);
        var earlier = _h.Store.Read(Set("s")).Streams.Single();

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(Framing.Encrypted(1001), frameLength: 100), options: _h.Options with { MaxStreamSize = 1000 });

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.TooLarge} ", result.StdoutText, StringComparison.Ordinal);
        AssertOnlyEarlier(earlier);
    }

    [Fact]
    public async Task A_stream_of_exactly_MAX_STREAM_SIZE_is_accepted()
    {
        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(Framing.Encrypted(1000), frameLength: 100), options: _h.Options with { MaxStreamSize = 1000 });

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_second_upload_to_a_set_whose_lock_is_held_is_refused_busy_with_exit_4()
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1]);
        using var held = DirectoryLock.TryAcquire(_h.Store.LockFilePath(Set("s")));
        Assert.NotNull(held);
        var before = _h.Tree();

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 2]));

        Assert.Equal(4, result.ExitCode);
        Assert.Equal([$"ERR {ErrorCodes.Busy} another upload to set 's' is running; try again when it has finished"], result.StdoutLines);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public async Task An_upload_to_another_set_runs_while_one_set_is_locked()
    {
        await _h.ReceiveAsync("a", Name(5), [0x8C, 1]);
        using var held = DirectoryLock.TryAcquire(_h.Store.LockFilePath(Set("a")));

        var result = await _h.ServeAsync($"receive-stream b {Name(1)} full", Framing.Frame([0x8C, 2]));

        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task A_stale_temp_file_left_by_a_killed_upload_is_removed_by_the_next_receive_on_that_set()
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1]);
        var stale = _h.LeaveTemp("s");

        await _h.ReceiveAsync("s", Name(1), [0x8C, 2]);

        Assert.False(File.Exists(stale));
        Assert.Equal(2, _h.Store.Read(Set("s")).Streams.Count);
    }

    [Fact]
    public async Task Cancelling_mid_read_as_SIGTERM_does_commits_nothing_and_removes_the_temp_file()
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3]);
        var earlier = _h.Store.Read(Set("s")).Streams.Single();
        var framed = Framing.Frame(Framing.Encrypted(5000), frameLength: 1000);
        var stdin = new TrickleStream(framed[..3000], maxRead: 700, stallAtEnd: true);
        using var sigterm = new CancellationTokenSource();

        var serving = _h.ServeAsync($"receive-stream s {Name(1)} full", stdin, cancellationToken: sigterm.Token);
        await stdin.Stalled.WaitAsync(TimeSpan.FromSeconds(30));
        var midway = _h.Temps();
        await sigterm.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => serving.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Single(midway);
        AssertOnlyEarlier(earlier);
    }

    [Fact]
    public async Task A_client_that_stalls_longer_than_IDLE_TIMEOUT_SECONDS_is_cut_off_with_its_temp_file_removed_and_the_set_lock_released()
    {
        await _h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3]);
        var earlier = _h.Store.Read(Set("s")).Streams.Single();
        var framed = Framing.Frame(Framing.Encrypted(5000), frameLength: 1000);
        var stdin = new TrickleStream(framed[..3000], maxRead: 700, stallAtEnd: true);
        var options = _h.Options with { IdleTimeout = TimeSpan.FromMilliseconds(300) };

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", stdin, options: options).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(6, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.IdleTimeout} the client sent nothing for 0 seconds", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
        Assert.Contains(result.Log, l => l.Contains("idle-timeout", StringComparison.Ordinal));
        AssertOnlyEarlier(earlier);
        var next = await _h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame([0x8C, 7]));
        Assert.Equal(0, next.ExitCode);
    }

    [Fact]
    public async Task A_slow_client_that_keeps_sending_is_not_cut_off_by_the_idle_timeout()
    {
        var framed = Framing.Frame(Framing.Encrypted(3000), frameLength: 100);
        var options = _h.Options with { IdleTimeout = TimeSpan.FromMilliseconds(400) };

        var result = await _h.ServeAsync($"receive-stream s {Name(1)} full", new SlowStream(framed, 150, TimeSpan.FromMilliseconds(100)), options: options);

        Assert.Equal(0, result.ExitCode);
    }

    /// <summary>Hands out <paramref name="piece"/> bytes per read, each after <paramref name="delay"/>: slower in total than the idle timeout, never idle that long.</summary>
    private sealed class SlowStream(byte[] data, int piece, TimeSpan delay) : Core.Streams.ReadOnlyStream
    {
        private int _position;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(delay, cancellationToken);
            var n = Math.Min(Math.Min(piece, buffer.Length), data.Length - _position);
            data.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
    }

    private void AssertOnlyEarlier(StoredStream earlier)
    {
        var contents = _h.Store.Read(earlier.Manifest.Set);
        var only = Assert.Single(contents.Streams);
        Assert.Equal(earlier.Manifest, only.Manifest);
        Assert.Equal(earlier.Manifest.StreamSha256, Framing.Sha256Hex(File.ReadAllBytes(only.StreamFilePath)));
        Assert.Empty(contents.OrphanFilePaths);
        Assert.Empty(contents.TempFilePaths);
        Assert.Empty(contents.Problems);
        Assert.Empty(_h.Temps());
    }
}

using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Adopt;
using BtrfsSend.Receiver.Pruning;
using BtrfsSend.Receiver.Tests.Support;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Adopt;

/// <summary>
/// <c>adopt</c> over a set directory as the shell scripts leave it: stream files named
/// <c>&lt;prefix&gt;-&lt;time&gt;.full|incr.btrfs.gpg</c> and their own <c>&lt;snapshot&gt;.manifest</c>.
/// The streams' bytes are opaque here (the real-btrfs and gpg end-to-end test is in IntegrationTests).
/// </summary>
public sealed class LegacyAdopterTests : IDisposable
{
    private const string SetName = "prod-srv/rootfs";
    private readonly ReceiverHarness _h = new();
    private readonly MemorySink _log = new();

    public void Dispose() => _h.Dispose();

    private string Dir => _h.SetDirPath(SetName);

    private static string At(int day) => $"prod-srv-rootfs-202403{day:00}T020500Z";

    /// <summary>A stream file as the scripts stored it (an OpenPGP symmetric packet first), modified at <paramref name="mtime"/>.</summary>
    private string LegacyStream(string snapshot, bool full, DateTime mtime, string? manifest = null)
    {
        Directory.CreateDirectory(Dir);
        var path = Path.Combine(Dir, snapshot + (full ? ".full.btrfs.gpg" : ".incr.btrfs.gpg"));
        File.WriteAllBytes(path, [0x8c, 0x0d, .. Encoding.ASCII.GetBytes($"ciphertext of {snapshot}")]);
        File.SetLastWriteTimeUtc(path, mtime);
        File.SetUnixFileMode(path, UnixFileMode.UserRead);
        if (manifest is not null)
        {
            var manifestPath = Path.Combine(Dir, snapshot + ".manifest");
            File.WriteAllText(manifestPath, manifest);
            File.SetUnixFileMode(manifestPath, UnixFileMode.UserRead);
        }

        return path;
    }

    private (AdoptOutcome Outcome, string Output) Adopt(bool dryRun = false)
    {
        var output = new StringWriter();
        var outcome = new LegacyAdopter(_h.Store, _log.CreateLogger()).Adopt(Set(SetName), dryRun, output);
        return (outcome, output.ToString());
    }

    /// <summary>Full on day 1; day 2 names its parent; day 3's manifest names only the snapshot.</summary>
    private void ThreeLegacyStreams()
    {
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 2, 6, 7, DateTimeKind.Utc), $"snapshot={At(1)}\n");
        LegacyStream(At(2), false, new DateTime(2024, 3, 2, 2, 6, 7, DateTimeKind.Utc), $"snapshot={At(2)}\nparent={At(1)}\n");
        LegacyStream(At(3), false, new DateTime(2024, 3, 3, 2, 6, 7, DateTimeKind.Utc), $"snapshot={At(3)}\n");
    }

    [Fact]
    public void Adopt_writes_manifests_of_ours_with_origin_legacy_and_the_inferred_parent_marked_and_keeps_the_scripts_manifests_read_only()
    {
        ThreeLegacyStreams();
        var oldManifest3 = File.ReadAllBytes(Path.Combine(Dir, At(3) + ".manifest"));

        var (outcome, output) = Adopt();

        Assert.Equal(new AdoptOutcome(3, 0, 0), outcome);
        var contents = _h.Store.Read(Set(SetName));
        Assert.True(contents.IsReadable, string.Join("; ", contents.Problems));
        Assert.Empty(contents.OrphanFilePaths);
        Assert.Equal([At(1), At(2), At(3)], contents.Streams.Select(s => s.Manifest.Snapshot.Value).Order(StringComparer.Ordinal));
        var m1 = contents.Find(Snap(At(1)))!.Manifest;
        var m2 = contents.Find(Snap(At(2)))!.Manifest;
        var m3 = contents.Find(Snap(At(3)))!.Manifest;
        Assert.Equal((null, false), (m1.Parent?.Value, m1.ParentInferred));
        Assert.Equal((At(1), false), (m2.Parent?.Value, m2.ParentInferred));
        Assert.Equal((At(2), true), (m3.Parent?.Value, m3.ParentInferred));
        Assert.All([m1, m2, m3], m => Assert.Equal(ManifestKeys.LegacyOrigin, m.Origin));
        Assert.Equal(new DateTime(2024, 3, 3, 2, 6, 7, DateTimeKind.Utc), m3.ReceivedAtUtc);
        Assert.Equal(StreamEncryption.OpenPgpSymmetric, m3.Encryption);
        Assert.Equal(Framing.Sha256Hex(File.ReadAllBytes(Path.Combine(Dir, At(3) + ".incr.btrfs.gpg"))), m3.StreamSha256);
        Assert.Equal(At(3) + ".scripts-manifest", m3.LegacyManifest);
        var kept = Path.Combine(Dir, At(3) + ".scripts-manifest");
        Assert.Equal(oldManifest3, File.ReadAllBytes(kept));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(kept));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(Dir, At(3) + ".manifest")));
        Assert.Contains("parent_inferred=yes", File.ReadAllText(Path.Combine(Dir, At(3) + ".manifest")), StringComparison.Ordinal);
        Assert.Contains($"incremental on {At(2)} (the scripts' manifest names no parent: inferred as the previous snapshot", output, StringComparison.Ordinal);
        Assert.Contains($"incremental on {At(1)} (named by the scripts' manifest (parent=))", output, StringComparison.Ordinal);
        Assert.Empty(_h.Temps());
    }

    [Fact]
    public void Adopt_twice_changes_nothing_the_second_time()
    {
        ThreeLegacyStreams();
        Adopt();
        var before = _h.Tree();
        var modes = Directory.GetFiles(Dir).ToDictionary(f => f, f => (File.GetUnixFileMode(f), File.GetLastWriteTimeUtc(f)));

        var (outcome, output) = Adopt();

        Assert.Equal(new AdoptOutcome(0, 3, 0), outcome);
        Assert.Equal(before, _h.Tree());
        Assert.Equal(modes, Directory.GetFiles(Dir).ToDictionary(f => f, f => (File.GetUnixFileMode(f), File.GetLastWriteTimeUtc(f))));
        Assert.Contains($"skip    {At(3)}: already has a manifest of ours (adopted earlier)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Dry_run_prints_every_decision_and_why_and_changes_nothing()
    {
        ThreeLegacyStreams();
        var before = _h.Tree();

        var (outcome, output) = Adopt(dryRun: true);

        Assert.Equal(new AdoptOutcome(3, 0, 0), outcome);
        Assert.Equal(before, _h.Tree());
        Assert.Contains($"adopt   {At(1)}: full; received_at 2024-03-01T02:06:07Z (the file's modification time)", output, StringComparison.Ordinal);
        Assert.Contains("parent_inferred=yes until btrfs-send-backup verify proves it", output, StringComparison.Ordinal);
        Assert.Contains($"the scripts' manifest kept as {At(2)}.scripts-manifest (read-only)", output, StringComparison.Ordinal);
        Assert.Contains("would adopt 3, 0 already had a manifest of ours, 0 refused (dry run: nothing changed)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Streams_without_any_manifest_are_adopted_from_their_file_names()
    {
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 3, 0, 0, DateTimeKind.Utc));
        LegacyStream(At(2), false, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc));

        var (outcome, output) = Adopt();

        Assert.Equal(new AdoptOutcome(2, 0, 0), outcome);
        var m2 = _h.Store.Read(Set(SetName)).Find(Snap(At(2)))!.Manifest;
        Assert.Equal((At(1), true, null), (m2.Parent?.Value, m2.ParentInferred, m2.LegacyManifest));
        Assert.Contains("no manifest of the scripts beside it: the file name decides", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifests_in_other_spellings_are_read_tolerantly_and_unknown_keys_ignored()
    {
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 3, 0, 0, DateTimeKind.Utc), $"# written by backup-receive-btrfs-stream.sh\r\nSNAPSHOT=\"{At(1)}\"\r\nTYPE=full\r\nPARENT=\r\nhost=prod-srv\r\n");
        LegacyStream(At(2), true, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc), $"snapshot_name = {At(2)}\nkind=full\n");
        LegacyStream(At(3), false, new DateTime(2024, 3, 3, 3, 0, 0, DateTimeKind.Utc), $"name={At(3)}\nparent_snapshot='{At(1)}'\nmode=incr\nsize=42\n");

        var (outcome, output) = Adopt();

        Assert.True(outcome.Refused == 0, output);
        var m3 = _h.Store.Read(Set(SetName)).Find(Snap(At(3)))!.Manifest;
        Assert.Equal((At(1), false), (m3.Parent?.Value, m3.ParentInferred));
        Assert.Empty(m3.UnknownKeys);
    }

    [Theory]
    [InlineData("binary", "it contains NUL bytes (binary, not text)")]
    [InlineData("huge", "more than the 65536 a manifest of the scripts can be")]
    [InlineData("latin1", "it is not UTF-8 text")]
    public void An_unreadable_scripts_manifest_falls_back_to_the_file_name_and_is_still_kept(string what, string note)
    {
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 3, 0, 0, DateTimeKind.Utc));
        var path = LegacyStream(At(2), false, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc));
        byte[] bytes = what switch
        {
            "binary" => [(byte)'s', 0, 0, 0xff, 0x10],
            "huge" => Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat($"parent={At(1)}\n", 5000))),
            _ => [(byte)'s', (byte)'=', 0xe9, (byte)'\n'],
        };
        var manifestPath = Path.Combine(Dir, At(2) + ".manifest");
        File.WriteAllBytes(manifestPath, bytes);

        var (outcome, output) = Adopt();

        Assert.True(outcome.Refused == 0, output);
        Assert.Contains(note, output, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(Dir, At(2) + ".scripts-manifest")));
        var m2 = _h.Store.Read(Set(SetName)).Find(Snap(At(2)))!.Manifest;
        Assert.Equal((At(1), true), (m2.Parent?.Value, m2.ParentInferred));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Path_traversal_and_control_characters_in_a_scripts_manifest_are_never_used_as_names()
    {
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 3, 0, 0, DateTimeKind.Utc));
        LegacyStream(At(2), false, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc),
            $"snapshot={At(2)}\nparent=../../../etc/{At(1)}\nkind=incremental\x1b[2J\n");

        var (outcome, output) = Adopt();

        Assert.True(outcome.Refused == 0, output);
        Assert.Contains("parent= is not a snapshot name", output, StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b", output, StringComparison.Ordinal);
        var m2 = _h.Store.Read(Set(SetName)).Find(Snap(At(2)))!.Manifest;
        Assert.Equal((At(1), true), (m2.Parent?.Value, m2.ParentInferred));
        string[] expected = [".lock", At(1) + ".full.btrfs.gpg", At(1) + ".manifest", At(2) + ".incr.btrfs.gpg", At(2) + ".manifest", At(2) + ".scripts-manifest"];
        Assert.Equal(expected, Directory.GetFiles(Dir).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray());
    }

    [Theory]
    [InlineData("snapshot=prod-srv-rootfs-20240309T020500Z\n", "the scripts' manifest says snapshot prod-srv-rootfs-20240309T020500Z (snapshot=), but the stream file is named")]
    [InlineData("kind=full\n", "the scripts' manifest says kind full (kind=), but the stream file is named")]
    [InlineData("parent=prod-srv-rootfs-20240305T020500Z\n", "the scripts' manifest names parent prod-srv-rootfs-20240305T020500Z (parent=), which is not older than the snapshot")]
    public void A_scripts_manifest_that_contradicts_the_file_name_is_refused_and_nothing_changes_for_that_stream(string manifest, string why)
    {
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 3, 0, 0, DateTimeKind.Utc));
        LegacyStream(At(2), false, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc), manifest);
        var before = File.ReadAllBytes(Path.Combine(Dir, At(2) + ".manifest"));

        var (outcome, output) = Adopt();

        Assert.Equal(new AdoptOutcome(1, 0, 1), outcome);
        Assert.Contains($"refuse  {At(2)}: {why}", output, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(Dir, At(2) + ".manifest")));
        Assert.False(File.Exists(Path.Combine(Dir, At(2) + ".scripts-manifest")));
    }

    [Fact]
    public void An_incremental_with_nothing_older_and_a_file_of_other_names_are_refused_with_a_clear_line()
    {
        LegacyStream(At(2), false, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc));
        File.WriteAllBytes(Path.Combine(Dir, "../../x.full.btrfs.gpg".Replace("/", "_", StringComparison.Ordinal)), [1]);

        var (outcome, output) = Adopt();

        Assert.Equal(new AdoptOutcome(0, 0, 2), outcome);
        Assert.Contains($"refuse  {At(2)}: an incremental stream with no parent named and no older stream in the set to be its parent", output, StringComparison.Ordinal);
        Assert.Contains("skip    .._.._x.full.btrfs.gpg: not named <prefix>-<yyyyMMddTHHmmssZ>.full.btrfs.gpg or .incr.btrfs.gpg; left as it is", output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_adopt_interrupted_after_moving_the_scripts_manifest_finishes_on_the_next_run()
    {
        ThreeLegacyStreams();
        File.Move(Path.Combine(Dir, At(2) + ".manifest"), Path.Combine(Dir, At(2) + ".scripts-manifest"));

        var (outcome, _) = Adopt();

        Assert.Equal(new AdoptOutcome(3, 0, 0), outcome);
        var m2 = _h.Store.Read(Set(SetName)).Find(Snap(At(2)))!.Manifest;
        Assert.Equal((At(1), false), (m2.Parent?.Value, m2.ParentInferred));
    }

    [Fact]
    public void Adopt_takes_the_set_lock_and_refuses_while_an_upload_holds_it()
    {
        ThreeLegacyStreams();
        using var held = DirectoryLock.TryAcquire(_h.Store.LockFilePath(Set(SetName)));
        var before = _h.Tree();

        var ex = Assert.Throws<LockHeldException>(() => Adopt());

        Assert.Contains("set 'prod-srv/rootfs' is busy", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public void Prune_never_deletes_a_stream_older_than_an_inferred_link_a_kept_stream_depends_on()
    {
        // Two fulls, then an incremental whose manifest names no parent: adopt infers day 2, but
        // the scripts may have sent it against day 1. KEEP_DAILY=1 keeps day 3 and its inferred
        // ancestor day 2; day 1 must stay too while the inference is unproven.
        LegacyStream(At(1), true, new DateTime(2024, 3, 1, 3, 0, 0, DateTimeKind.Utc));
        LegacyStream(At(2), true, new DateTime(2024, 3, 2, 3, 0, 0, DateTimeKind.Utc));
        LegacyStream(At(3), false, new DateTime(2024, 3, 3, 3, 0, 0, DateTimeKind.Utc));
        Adopt();
        var output = new StringWriter();

        var outcome = new SetPruner(_h.Store, new RetentionPolicy(0, 1, 0, 0, 0), _log.CreateLogger(), _h.Clock).Prune(Set(SetName), dryRun: false, output);

        Assert.Equal((3, 0), (outcome.Kept, outcome.Deleted));
        Assert.True(File.Exists(Path.Combine(Dir, At(1) + ".full.btrfs.gpg")));
        Assert.Contains(_log.Lines, l => l.Contains("kept 3, deleted 0", StringComparison.Ordinal));

        var dryRun = new StringWriter();
        new SetPruner(_h.Store, new RetentionPolicy(0, 1, 0, 0, 0), _log.CreateLogger(), _h.Clock).Prune(Set(SetName), dryRun: true, dryRun);
        Assert.Contains($"keep    {At(1)}", dryRun.ToString(), StringComparison.Ordinal);
        Assert.Contains($"chain unproven: older than {At(3)}, whose parent adopt inferred", dryRun.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Once_no_kept_chain_has_an_inferred_link_the_adopted_streams_are_pruned_the_normal_way()
    {
        ThreeLegacyStreams();
        Adopt();
        var received = new DateTime(2024, 3, 10, 2, 6, 0, DateTimeKind.Utc);
        _h.StoreDirect(SetName, At(10), received);

        var outcome = new SetPruner(_h.Store, new RetentionPolicy(0, 1, 0, 0, 0), _log.CreateLogger(), _h.Clock).Prune(Set(SetName), dryRun: false, new StringWriter());

        Assert.Equal((1, 3), (outcome.Kept, outcome.Deleted));
        Assert.False(File.Exists(Path.Combine(Dir, At(3) + ".incr.btrfs.gpg")));
        Assert.False(File.Exists(Path.Combine(Dir, At(3) + ".scripts-manifest")));
    }
}

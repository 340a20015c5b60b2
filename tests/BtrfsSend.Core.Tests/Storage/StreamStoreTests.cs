using System.Text;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Storage;

public sealed class StreamStoreTests : IDisposable
{
    private static readonly BackupSet Set = BackupSet.Check("prod/rootfs").Value!;
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly TempDir _dir = new("store");

    public void Dispose() => _dir.Dispose();

    private string SetDir => Path.Combine(_dir.DirPath, "prod", "rootfs");

    private static SnapshotName Name(int i) => SnapshotName.Create("rootfs", Start.AddHours(i));

    /// <summary>Writes stream i (a full every 5, else an incremental on i-1) with a 7-byte stream file.</summary>
    private StoredStream Write(int i)
    {
        Directory.CreateDirectory(SetDir);
        var kind = i % 5 == 0 ? StreamKind.Full : StreamKind.Incremental;
        var manifest = new Manifest
        {
            Set = Set,
            Snapshot = Name(i),
            Kind = kind,
            Parent = kind == StreamKind.Incremental ? Name(i - 1) : null,
            StreamBytes = 7,
            StreamSha256 = new string('a', 64),
            Encryption = StreamEncryption.OpenPgpSymmetric,
            Compression = StreamCompression.None,
            SendProto = 2,
            ReceivedAtUtc = Start.AddHours(i).AddSeconds(30),
            Client = "prod-srv",
        };
        var streamPath = Path.Combine(SetDir, manifest.StreamFile);
        var manifestPath = Path.Combine(SetDir, StoredFileName.ManifestFileName(manifest.Snapshot));
        File.WriteAllBytes(streamPath, "7 bytes"u8.ToArray());
        File.WriteAllText(manifestPath, ManifestWriter.Render(manifest));
        return new StoredStream(manifest, manifestPath, streamPath);
    }

    [Fact]
    public void Reading_a_set_returns_every_committed_stream_in_name_order_with_its_measured_size()
    {
        var written = Enumerable.Range(0, 12).Reverse().Select(Write).ToList();

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        Assert.True(contents.IsReadable);
        Assert.Equal(written.Select(w => w.Manifest.Snapshot.Value).Order(StringComparer.Ordinal), contents.Streams.Select(s => s.Manifest.Snapshot.Value));
        Assert.All(contents.Streams, s => Assert.Equal(7, s.StreamFileBytes));
        Assert.All(contents.Streams, s => Assert.False(s.IsResized));
        Assert.Equal(written.Select(w => w.Manifest).OrderBy(m => m.Snapshot.Value, StringComparer.Ordinal), contents.Streams.Select(s => s.Manifest));
    }

    [Fact]
    public void A_stream_file_cut_short_or_grown_after_its_commit_is_marked_resized()
    {
        var shortened = Write(0);
        var grown = Write(1);
        Write(2);
        File.WriteAllBytes(shortened.StreamFilePath, "7 by"u8.ToArray());
        File.AppendAllText(grown.StreamFilePath, "more");

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        Assert.Equal([(4L, true), (11L, true), (7L, false)], contents.Streams.Select(s => (s.StreamFileBytes!.Value, s.IsResized)));
    }

    /// <summary>
    /// Manifests are read in parallel: whichever of them are broken (bad content, wrong set, missing
    /// stream file), each is reported exactly once, in name order, and every other one is returned.
    /// </summary>
    [Property(MaxTest = 25)]
    public Property Every_broken_manifest_among_many_is_reported_once_and_never_silently_skipped() =>
        Prop.ForAll(Gen.Choose(0, 3).ArrayOf(40).ToArbitrary(), damage =>
        {
            using var dir = new TempDir("store-prop");
            var store = new StreamStore(dir.DirPath);
            var setDir = Path.Combine(dir.DirPath, "prod", "rootfs");
            Directory.CreateDirectory(setDir);
            for (var i = 0; i < damage.Length; i++)
            {
                var snapshot = Name(i);
                var manifest = new Manifest
                {
                    Set = damage[i] == 2 ? BackupSet.Check("prod/other").Value! : Set,
                    Snapshot = snapshot,
                    Kind = StreamKind.Full,
                    StreamBytes = 1,
                    StreamSha256 = new string('b', 64),
                    Encryption = StreamEncryption.OpenPgpSymmetric,
                    Compression = StreamCompression.None,
                    SendProto = 2,
                    ReceivedAtUtc = Start.AddHours(i),
                    Client = "prod-srv",
                };
                var text = ManifestWriter.Render(manifest);
                File.WriteAllText(Path.Combine(setDir, StoredFileName.ManifestFileName(snapshot)), damage[i] == 1 ? text.Replace("kind=full", "kind=fool", StringComparison.Ordinal) : text);
                if (damage[i] != 3)
                {
                    File.WriteAllBytes(Path.Combine(setDir, manifest.StreamFile), [1]);
                }
            }

            var contents = store.Read(Set);

            var expectedProblems = Enumerable.Range(0, damage.Length).Where(i => damage[i] != 0).Select(i => Name(i).Value).ToList();
            var reported = contents.Problems.Select(p => expectedProblems.Single(n => p.Contains($"{n}.manifest", StringComparison.Ordinal))).ToList();
            return reported.SequenceEqual(expectedProblems)
                && contents.Streams.Select(s => s.Manifest.Snapshot.Value).SequenceEqual(Enumerable.Range(0, damage.Length).Where(i => damage[i] == 0).Select(i => Name(i).Value))
                && contents.IsReadable == (expectedProblems.Count == 0);
        });

    [Fact]
    public void Temp_files_orphans_and_foreign_files_are_told_apart_from_committed_streams()
    {
        Write(0);
        Write(1);
        var orphan = Path.Combine(SetDir, StoredFileName.StreamFileName(Name(2), StreamKind.Incremental));
        var temp = Path.Combine(SetDir, $"{DurableFiles.TempPrefix}123-abc-{StoredFileName.StreamFileName(Name(3), StreamKind.Full)}");
        File.WriteAllText(orphan, "x");
        File.WriteAllText(temp, "x");
        File.WriteAllText(Path.Combine(SetDir, "not..a-name.full.btrfs.gpg"), "x");
        File.WriteAllText(Path.Combine(SetDir, "README.manifest"), "x");
        File.WriteAllText(Path.Combine(SetDir, StreamStore.LockFileName), "");
        Directory.CreateDirectory(Path.Combine(SetDir, StoredFileName.ManifestFileName(Name(4))));

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        Assert.True(contents.IsReadable);
        Assert.Equal(2, contents.Streams.Count);
        Assert.Equal([orphan], contents.OrphanFilePaths);
        Assert.Equal([temp], contents.TempFilePaths);
        Assert.True(contents.HasName(Name(2)));
        Assert.False(contents.HasName(Name(3)));
        Assert.False(contents.HasName(Name(4)));
    }

    [Fact]
    public void A_manifest_larger_than_the_limit_is_reported_not_read_whole()
    {
        Write(0);
        var big = Write(1);
        File.AppendAllText(big.ManifestFilePath, "note=" + new string('x', ManifestReader.MaxBytes) + "\n");

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        var problem = Assert.Single(contents.Problems);
        Assert.Equal($"{big.ManifestFilePath}: manifest is more than {ManifestReader.MaxBytes} bytes", problem);
        Assert.Single(contents.Streams);
    }

    [RealFact("mkfifo")]
    public async Task A_fifo_planted_under_a_manifest_name_is_reported_instead_of_hanging_the_reader()
    {
        Write(0);
        var fifo = Path.Combine(SetDir, StoredFileName.ManifestFileName(Name(1)));
        await Run.OutAsync("mkfifo", fifo);

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        var problem = Assert.Single(contents.Problems);
        Assert.StartsWith($"{fifo}: {fifo}: manifest is empty", problem, StringComparison.Ordinal);
        Assert.Single(contents.Streams);
    }

    [Fact]
    public void An_unreadable_manifest_is_reported_with_the_reason()
    {
        Write(0);
        var manifest = Path.Combine(SetDir, StoredFileName.ManifestFileName(Name(1)));
        File.CreateSymbolicLink(manifest, Path.Combine(_dir.DirPath, "nowhere"));

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        Assert.Equal([$"{manifest}: cannot read: No such file or directory (errno 2)"], contents.Problems);
    }

    [Fact]
    public void Utf8_manifests_are_decoded_strictly()
    {
        var stream = Write(0);
        File.WriteAllBytes(stream.ManifestFilePath, [.. Encoding.UTF8.GetBytes(File.ReadAllText(stream.ManifestFilePath)), 0xC3, 0x28, (byte)'\n']);

        var contents = new StreamStore(_dir.DirPath).Read(Set);

        Assert.Equal([$"{stream.ManifestFilePath}: {stream.ManifestFilePath}: manifest is not valid UTF-8"], contents.Problems);
    }
}

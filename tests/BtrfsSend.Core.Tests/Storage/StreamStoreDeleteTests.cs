using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Storage;

public sealed class StreamStoreDeleteTests : IDisposable
{
    private static readonly BackupSet Set = BackupSet.Check("prod/rootfs").Value!;
    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly TempDir _dir = new("delete");
    private readonly StreamStore _store;

    public StreamStoreDeleteTests()
    {
        _store = new StreamStore(_dir.DirPath);
        Directory.CreateDirectory(SetDir);
    }

    public void Dispose() => _dir.Dispose();

    private string SetDir => _store.SetDirPath(Set);

    private static SnapshotName Name(int i) => SnapshotName.Create("rootfs", Start.AddHours(i));

    /// <summary>Commits full stream i through an upload; with <paramref name="legacy"/>, adopt's kept scripts' manifest beside it.</summary>
    private async Task<StoredStream> StoreAsync(int i, bool legacy = false)
    {
        using var setLock = _store.TryLock(Set)!;
        var manifest = new Manifest
        {
            Set = Set,
            Snapshot = Name(i),
            Kind = StreamKind.Full,
            StreamBytes = 3,
            StreamSha256 = new string('a', 64),
            Encryption = StreamEncryption.OpenPgpSymmetric,
            Compression = StreamCompression.None,
            SendProto = 2,
            ReceivedAtUtc = Start.AddHours(i),
            Client = "prod-srv",
            LegacyManifest = legacy ? StoredFileName.LegacyManifestFileName(Name(i)) : null,
        };
        if (legacy)
        {
            File.WriteAllText(Path.Combine(SetDir, manifest.LegacyManifest!), "scripts\n");
        }

        await using var upload = _store.BeginUpload(setLock, Set, Name(i), StreamKind.Full);
        upload.Temp.Write("abc"u8);
        await upload.CommitAsync(manifest);
        return _store.Read(Set).Find(Name(i))!;
    }

    private string[] Entries() => Directory.GetFileSystemEntries(SetDir).Select(Path.GetFileName).Where(n => n != StreamStore.LockFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public async Task Deleting_streams_removes_their_stream_file_manifest_and_kept_scripts_manifest_and_nothing_else()
    {
        var first = await StoreAsync(0, legacy: true);
        var second = await StoreAsync(1);
        var kept = await StoreAsync(2);
        var heard = new List<string>();
        using var setLock = _store.TryLock(Set)!;

        _store.Delete(setLock, Set, [first, second], s => heard.Add(s.Manifest.Snapshot.Value));

        Assert.Equal([Name(0).Value, Name(1).Value], heard);
        Assert.Equal([Path.GetFileName(kept.StreamFilePath), Path.GetFileName(kept.ManifestFilePath)], Entries());
        Assert.Equal(kept, Assert.Single(_store.Read(Set).Streams));
    }

    [Fact]
    public async Task A_delete_that_fails_on_the_stream_file_leaves_the_manifest_so_the_set_never_shows_an_orphan_stream()
    {
        var stored = await StoreAsync(0, legacy: true);
        // The stream file's name is a non-empty directory now: unlink(2) fails there, as it would
        // on an I/O error; the delete must not have removed a manifest before it.
        File.Delete(stored.StreamFilePath);
        Directory.CreateDirectory(Path.Combine(stored.StreamFilePath, "x"));
        using var setLock = _store.TryLock(Set)!;

        Assert.ThrowsAny<Exception>(() => _store.Delete(setLock, Set, [stored]));

        Assert.True(File.Exists(stored.ManifestFilePath));
        Assert.True(File.Exists(Path.Combine(SetDir, stored.Manifest.LegacyManifest!)));
    }

    [Fact]
    public async Task A_delete_interrupted_after_the_stream_file_leaves_a_manifest_without_stream_which_the_store_reports()
    {
        // What the order guarantees at its worst point: the stream is gone, the manifest is not.
        var stored = await StoreAsync(0);
        File.Delete(stored.StreamFilePath);

        var contents = _store.Read(Set);

        Assert.Empty(contents.Streams);
        Assert.Empty(contents.OrphanFilePaths);
        Assert.Contains("is missing", Assert.Single(contents.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deleting_needs_the_lock_of_that_set_and_a_stream_of_that_set()
    {
        var stored = await StoreAsync(0);
        var otherSet = BackupSet.Check("prod/home").Value!;
        Directory.CreateDirectory(_store.SetDirPath(otherSet));
        using (var otherLock = _store.TryLock(otherSet)!)
        {
            Assert.Throws<ArgumentException>(() => _store.Delete(otherLock, Set, [stored]));
            Assert.Throws<ArgumentException>(() => _store.Delete(otherLock, otherSet, [stored]));
        }

        Assert.Equal(stored, Assert.Single(_store.Read(Set).Streams));
    }
}

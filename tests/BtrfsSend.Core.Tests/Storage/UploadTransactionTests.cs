using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Storage;

public sealed class UploadTransactionTests : IDisposable
{
    private static readonly BackupSet Set = BackupSet.Check("prod/rootfs").Value!;
    private static readonly SnapshotName Snapshot = SnapshotName.Create("rootfs", new DateTime(2026, 1, 1, 3, 0, 0, DateTimeKind.Utc));
    private readonly TempDir _dir = new("upload");
    private readonly StreamStore _store;

    public UploadTransactionTests()
    {
        _store = new StreamStore(_dir.DirPath);
        Directory.CreateDirectory(_store.SetDirPath(Set));
    }

    public void Dispose() => _dir.Dispose();

    private string SetDir => _store.SetDirPath(Set);

    private static Manifest ManifestFor(byte[] payload) => new()
    {
        Set = Set,
        Snapshot = Snapshot,
        Kind = StreamKind.Full,
        StreamBytes = payload.Length,
        StreamSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)),
        Encryption = StreamEncryption.OpenPgpSymmetric,
        Compression = StreamCompression.None,
        SendProto = 2,
        ReceivedAtUtc = new DateTime(2026, 1, 1, 3, 0, 5, DateTimeKind.Utc),
        Client = "prod-srv",
    };

    /// <summary>The set directory's entries other than the lock file.</summary>
    private string[] Entries() => Directory.GetFileSystemEntries(SetDir).Select(Path.GetFileName).Where(n => n != StreamStore.LockFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public async Task A_committed_upload_is_a_read_only_stream_and_manifest_that_the_store_reads_back_and_no_temp_file()
    {
        var payload = "\x8c encrypted bytes"u8.ToArray();
        using var setLock = _store.TryLock(Set)!;

        await using (var upload = _store.BeginUpload(setLock, Set, Snapshot, StreamKind.Full))
        {
            upload.Temp.Write(payload);
            upload.Temp.Flush(flushToDisk: true);
            await upload.CommitAsync(ManifestFor(payload));
        }

        var stored = Assert.Single(_store.Read(Set).Streams);
        Assert.Equal(payload, File.ReadAllBytes(stored.StreamFilePath));
        Assert.Equal(ManifestFor(payload), stored.Manifest);
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(stored.StreamFilePath));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(stored.ManifestFilePath));
        Assert.Equal([StoredFileName.StreamFileName(Snapshot, StreamKind.Full), StoredFileName.ManifestFileName(Snapshot)], Entries());
    }

    [Fact]
    public async Task An_upload_that_throws_before_its_commit_leaves_nothing_in_the_set()
    {
        using var setLock = _store.TryLock(Set)!;

        await Assert.ThrowsAsync<EndOfStreamException>(async () =>
        {
            await using var upload = _store.BeginUpload(setLock, Set, Snapshot, StreamKind.Full);
            upload.Temp.Write("half a stream"u8);
            Assert.StartsWith(DurableFiles.TempPrefix, Assert.Single(Entries()));
            throw new EndOfStreamException("the client went away");
        });

        Assert.Empty(Entries());
        Assert.Empty(_store.Read(Set).Streams);
    }

    [Fact]
    public async Task A_manifest_that_cannot_be_committed_withdraws_the_stream_committed_before_it()
    {
        var payload = "\x8c bytes"u8.ToArray();
        var manifestPath = Path.Combine(SetDir, StoredFileName.ManifestFileName(Snapshot));
        File.WriteAllText(manifestPath, "not ours\n"); // the manifest's name is taken: its no-replace rename fails
        using var setLock = _store.TryLock(Set)!;

        var refused = await Assert.ThrowsAsync<RefusedException>(async () =>
        {
            await using var upload = _store.BeginUpload(setLock, Set, Snapshot, StreamKind.Full);
            upload.Temp.Write(payload);
            await upload.CommitAsync(ManifestFor(payload));
        });

        Assert.Equal("exists", refused.Code);
        Assert.Equal([StoredFileName.ManifestFileName(Snapshot)], Entries());
        Assert.Equal("not ours\n", File.ReadAllText(manifestPath));
    }

    [Fact]
    public async Task A_stream_name_already_stored_is_never_replaced_and_the_temp_file_goes()
    {
        var streamPath = Path.Combine(SetDir, StoredFileName.StreamFileName(Snapshot, StreamKind.Full));
        File.WriteAllText(streamPath, "original");
        using var setLock = _store.TryLock(Set)!;

        await Assert.ThrowsAsync<RefusedException>(async () =>
        {
            await using var upload = _store.BeginUpload(setLock, Set, Snapshot, StreamKind.Full);
            upload.Temp.Write("attacker"u8);
            await upload.CommitAsync(ManifestFor("attacker"u8.ToArray()));
        });

        Assert.Equal("original", File.ReadAllText(streamPath));
        Assert.Equal([StoredFileName.StreamFileName(Snapshot, StreamKind.Full)], Entries());
    }

    [Fact]
    public void A_crashed_upload_leaves_only_a_temp_file_that_listings_skip_and_the_next_lock_holder_deletes()
    {
        using (var setLock = _store.TryLock(Set)!)
        {
            // SIGKILL: the bytes were written, the transaction is never disposed nor committed.
            var upload = _store.BeginUpload(setLock, Set, Snapshot, StreamKind.Full);
            upload.Temp.Write("\x8c half"u8);
            upload.Temp.Close();
        }

        var temp = Assert.Single(Entries());
        Assert.StartsWith(DurableFiles.TempPrefix, temp);
        var contents = _store.Read(Set);
        Assert.Empty(contents.Streams);
        Assert.Empty(contents.Problems);
        Assert.Equal([Path.Combine(SetDir, temp)], contents.TempFilePaths);

        using var next = _store.TryLock(Set)!;
        Assert.Equal([Path.Combine(SetDir, temp)], _store.DeleteStaleTemps(next, Set));
        Assert.Empty(Entries());
    }

    [Fact]
    public async Task A_manifest_for_another_snapshot_is_refused_and_nothing_is_committed()
    {
        using var setLock = _store.TryLock(Set)!;
        var other = ManifestFor([1]) with { Snapshot = SnapshotName.Create("rootfs", new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc)) };

        await Assert.ThrowsAsync<ArgumentException>(async () =>
        {
            await using var upload = _store.BeginUpload(setLock, Set, Snapshot, StreamKind.Full);
            await upload.CommitAsync(other);
        });

        Assert.Empty(Entries());
    }

    [Fact]
    public void Beginning_an_upload_needs_the_lock_of_that_very_set()
    {
        var otherSet = BackupSet.Check("prod/home").Value!;
        Directory.CreateDirectory(_store.SetDirPath(otherSet));
        using var otherLock = _store.TryLock(otherSet)!;

        Assert.Throws<ArgumentException>(() => _store.BeginUpload(otherLock, Set, Snapshot, StreamKind.Full));
        Assert.Empty(Entries());
    }
}

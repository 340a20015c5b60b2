using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Serve;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Support;

/// <summary>
/// A temp BACKUP_ROOT, a hand-set clock and an in-process <see cref="ServeSession"/> over memory
/// streams, as sshd would run the forced command; plus direct writes of stored streams for the
/// prune and check tests (in exactly the format the receiver commits).
/// </summary>
public sealed class ReceiverHarness : IDisposable
{
    /// <summary>The receiver's clock in every test unless a test moves it (milliseconds on purpose: received_at keeps whole seconds).</summary>
    public static readonly DateTimeOffset Now = new(2024, 3, 10, 12, 0, 0, 789, TimeSpan.Zero);

    private readonly TempDir _dir = new("receiver");

    public ReceiverHarness()
    {
        RootDirPath = _dir.Sub("backups");
        Directory.CreateDirectory(RootDirPath);
        Clock = new ManualClock(Now);
        Options = new ReceiverOptions { BackupRootDirPath = RootDirPath, MinFreeSpace = 0 };
    }

    public string DirPath => _dir.DirPath;

    public string RootDirPath { get; }

    public ManualClock Clock { get; }

    public ReceiverOptions Options { get; set; }

    public StreamStore Store => new(RootDirPath);

    public static BackupSet Set(string text) => BackupSet.Check(text).Value ?? throw new ArgumentException(text);

    public static SnapshotName Snap(string text) => SnapshotName.Check(text).Value ?? throw new ArgumentException(text);

    /// <summary><c>root-yyyyMMddTHHmmssZ</c> at <see cref="Now"/> minus <paramref name="hoursAgo"/>.</summary>
    public static string Name(double hoursAgo, string prefix = "root")
        => $"{prefix}-{Now.UtcDateTime.AddHours(-hoursAgo):yyyyMMdd'T'HHmmss'Z'}";

    public string SetDirPath(string set) => Store.SetDirPath(Set(set));

    public async Task<ServeResult> ServeAsync(string command, byte[]? stdin = null, string? client = null, ReceiverOptions? options = null, CancellationToken cancellationToken = default)
        => await ServeAsync(command, new MemoryStream(stdin ?? []), client, options, cancellationToken);

    public async Task<ServeResult> ServeAsync(string command, Stream stdin, string? client = null, ReceiverOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sink = new MemorySink();
        using var stdout = new MemoryStream();
        var session = new ServeSession(options ?? Options, client, stdin, stdout, sink.CreateLogger(), Clock);
        var exit = await session.RunAsync(command, cancellationToken);
        return new ServeResult(exit, stdout.ToArray(), sink.Lines);
    }

    /// <summary>Receives <paramref name="payload"/> through the forced command and insists it was stored.</summary>
    public async Task<ServeResult> ReceiveAsync(string set, string snapshot, byte[] payload, string? parent = null)
    {
        var command = parent is null ? $"receive-stream {set} {snapshot} full" : $"receive-stream {set} {snapshot} incremental {parent}";
        var result = await ServeAsync(command, Framing.Frame(payload));
        Assert.True(result.ExitCode == 0, $"seeding {snapshot} failed: {result.StdoutText}");
        return result;
    }

    /// <summary>Writes a committed stream and its manifest directly, with a chosen received_at (for prune and check).</summary>
    public StoredStream StoreDirect(string set, string snapshot, DateTime receivedAtUtc, string? parent = null, byte[]? payload = null,
        StreamEncryption encryption = StreamEncryption.OpenPgpSymmetric)
    {
        payload ??= Encoding.ASCII.GetBytes($"payload of {snapshot}");
        var backupSet = Set(set);
        var dir = Store.SetDirPath(backupSet);
        Directory.CreateDirectory(dir);
        var manifest = new Manifest
        {
            Set = backupSet,
            Snapshot = Snap(snapshot),
            Kind = parent is null ? StreamKind.Full : StreamKind.Incremental,
            Parent = parent is null ? null : Snap(parent),
            StreamBytes = payload.Length,
            StreamSha256 = Framing.Sha256Hex(payload),
            Encryption = encryption,
            Compression = StreamCompression.None,
            SendProto = 1,
            ReceivedAtUtc = new DateTime(receivedAtUtc.Ticks - (receivedAtUtc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc),
            Client = "prod",
        };
        var streamPath = Path.Combine(dir, manifest.StreamFile);
        var manifestPath = Path.Combine(dir, StoredFileName.ManifestFileName(manifest.Snapshot));
        DurableFiles.WriteNew(streamPath, payload);
        DurableFiles.WriteNew(manifestPath, Encoding.UTF8.GetBytes(ManifestWriter.Render(manifest)));
        return new StoredStream(manifest, manifestPath, streamPath);
    }

    /// <summary>A temp file as a SIGKILLed upload leaves it.</summary>
    public string LeaveTemp(string set, string finalName = "root-20240310T110000Z.full.btrfs.gpg")
    {
        var dir = SetDirPath(set);
        Directory.CreateDirectory(dir);
        var path = DurableFiles.TempPathFor(dir, finalName);
        File.WriteAllBytes(path, new byte[100]);
        return path;
    }

    /// <summary>
    /// Every file and directory under BACKUP_ROOT (relative path → SHA-256 of a file, "dir" for a
    /// directory), except the per-set <c>.lock</c> files: they hold no data, and reading one would
    /// collide with a flock a test holds.
    /// </summary>
    public SortedDictionary<string, string> Tree()
    {
        var tree = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Directory.EnumerateFileSystemEntries(RootDirPath, "*", SearchOption.AllDirectories))
        {
            if (Path.GetFileName(entry) == StreamStore.LockFileName)
            {
                continue;
            }

            var relative = Path.GetRelativePath(RootDirPath, entry);
            tree[relative] = Directory.Exists(entry) ? "dir" : Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(entry)));
        }

        return tree;
    }

    /// <summary>Temp files anywhere under BACKUP_ROOT.</summary>
    public IReadOnlyList<string> Temps()
        => Directory.EnumerateFiles(RootDirPath, DurableFiles.TempPrefix + "*", SearchOption.AllDirectories).ToList();

    public static string Stat(string path) => Run.OutAsync("stat", "-c", "%u:%g %a", path).GetAwaiter().GetResult().Trim();

    public static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public void Dispose() => _dir.Dispose();
}

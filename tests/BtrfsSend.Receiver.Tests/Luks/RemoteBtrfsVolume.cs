using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Retention;
using BtrfsSend.Receiver.Serve;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Luks;

/// <summary>A <see cref="FakeLuksVolume"/> served in process by <see cref="ServeSession"/>, with a hand-set clock.</summary>
public sealed class RemoteBtrfsVolume : IAsyncDisposable
{
    public static readonly byte[] Key = "correct horse battery staple 0123456789"u8.ToArray();

    private RemoteBtrfsVolume(FakeLuksVolume volume)
    {
        Volume = volume;
        Clock = new ManualClock(SendStreams.Now);
        Options = new ReceiverOptions
        {
            BackupRootDirPath = volume.DirPath,
            MinFreeSpace = 0,
            LuksDevicePath = volume.DevicePath,
            LuksName = volume.Name,
            LuksMountDirPath = volume.MountDirPath,
            ReceivedRootDirPath = volume.ReceivedRootDirPath,
            LuksToolsDirPath = volume.ToolsDirPath,
            LuksLease = TimeSpan.FromHours(1),
            Keep = new RetentionPolicy(0, 1, 0, 0, 0),
        };
    }

    public FakeLuksVolume Volume { get; }

    public ManualClock Clock { get; }

    public ReceiverOptions Options { get; set; }

    public string SetDirPath => Path.Combine(Volume.ReceivedRootDirPath, "prod", "root");

    public static async Task<RemoteBtrfsVolume> CreateAsync() => new(await FakeLuksVolume.CreateAsync());

    public async Task<ServeResult> ServeAsync(string command, byte[]? stdin = null, string? client = "prod") => await ServeAsync(command, new MemoryStream(stdin ?? []), client);

    public async Task<ServeResult> ServeAsync(string command, Stream stdin, string? client = "prod")
    {
        var sink = new MemorySink();
        using var stdout = new MemoryStream();
        var session = new ServeSession(Options, client, stdin, stdout, sink.CreateLogger(), Clock) { LuksLeaseDirPath = Volume.LeaseDirPath };
        var exit = await session.RunAsync(command);
        return new ServeResult(exit, stdout.ToArray(), sink.Lines);
    }

    public async Task OpenAsync()
    {
        var result = await ServeAsync("open-luks", Key);
        Assert.True(result.ExitCode == 0, $"open-luks failed: {result.StdoutText} {string.Join(" | ", result.Log)}");
    }

    /// <summary>Everything below the set's directory that is a subvolume (names), partial or not.</summary>
    public async Task<IReadOnlyList<string>> SubvolumesAsync()
    {
        var list = await Run.OutAsync("btrfs", "subvolume", "list", "-o", Volume.MountDirPath);
        return list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.LastIndexOf(' ') + 1)..]).ToList();
    }

    public ValueTask DisposeAsync() => Volume.DisposeAsync();
}

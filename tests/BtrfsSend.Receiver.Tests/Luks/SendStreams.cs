using System.Globalization;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Receiver.Tests.Luks;

/// <summary>
/// Real btrfs send streams, made once per test class: three read-only snapshots of a sample tree
/// (named as the producer names them, one hour apart ending now) and the full and incremental
/// streams between them.
/// </summary>
public sealed class SendStreams : IAsyncLifetime
{
    private BtrfsLoopFixture? _source;

    public static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    public string[] Names { get; } = [Name(3), Name(2), Name(1)];

    public byte[] Full0 { get; private set; } = [];

    public byte[] Incr1 { get; private set; } = [];

    public byte[] Incr2 { get; private set; } = [];

    public static string Name(int hoursAgo)
        => "root-" + Now.UtcDateTime.AddHours(-hoursAgo).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        if (!Prerequisites.IsRoot)
        {
            return;
        }

        _source = await BtrfsLoopFixture.CreateAsync("rbsrc");
        var live = await _source.CreateSubvolumeAsync("live");
        BtrfsLoopFixture.PopulateSample(live, seed: 1);
        await _source.SnapshotReadOnlyAsync(live, Names[0]);
        File.WriteAllText(Path.Combine(live, "changed.txt"), "second");
        await _source.SnapshotReadOnlyAsync(live, Names[1]);
        File.WriteAllText(Path.Combine(live, "changed.txt"), "third");
        await _source.SnapshotReadOnlyAsync(live, Names[2]);
        Full0 = await SendAsync(Names[0], null);
        Incr1 = await SendAsync(Names[1], Names[0]);
        Incr2 = await SendAsync(Names[2], Names[1]);
    }

    private async Task<byte[]> SendAsync(string name, string? parent)
    {
        var file = Path.Combine(_source!.DirPath, name + ".stream");
        string[] argv = parent is null
            ? ["btrfs", "send", "-q", "-f", file, _source.PathOf(name)]
            : ["btrfs", "send", "-q", "-f", file, "-p", _source.PathOf(parent), _source.PathOf(name)];
        await Run.OutAsync(argv);
        return await File.ReadAllBytesAsync(file);
    }

    public async Task DisposeAsync()
    {
        if (_source is not null)
        {
            await _source.DisposeAsync();
        }
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using BtrfsSend.Core.Btrfs;
using BtrfsSend.Core.Chains;
using BtrfsSend.Core.Retention;

// Measures what docs/retention.md and the issue promise: 100,000 items plan in well under a
// second (with and without the ancestor closure), and the send-stream validator's throughput.
// Run with scripts/bench-retention.sh (Release build). Prints one line per measurement.
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
var start = new DateTimeOffset(2015, 1, 1, 0, 0, 0, TimeSpan.Zero);
var random = new Random(42);
var items = new List<RetentionItem>(count);
var links = new List<ChainLink>(count);
for (var i = 0; i < count; i++)
{
    // Roughly hourly snapshots with jitter, every 24th a full, the rest incrementals on the previous one.
    var time = start.AddMinutes((i * 60L) + random.Next(0, 59));
    var id = $"snap-{time.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{i:D6}";
    items.Add(new RetentionItem(id, time));
    links.Add(i % 24 == 0 ? new ChainLink(id, false, null) : new ChainLink(id, true, links[i - 1].Snapshot));
}

var shuffled = items.OrderBy(_ => random.Next()).ToList();
var now = items[^1].Time.AddHours(1);
var policy = new RetentionPolicy(Hourly: 48, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 10, Within: TimeSpan.FromDays(2));
var resolver = new ChainResolver(links);

Measure($"plan {count:N0} items (shuffled), no ancestors", () => RetentionPlanner.Plan(shuffled, policy, now).Kept.Count());
Measure($"plan {count:N0} items (shuffled), with ancestor closure", () => RetentionPlanner.Plan(shuffled, policy, now, resolver.ParentOf).Kept.Count());
Measure($"chain resolver: broken chains over {count:N0} links", () => resolver.BrokenChains().Count);

var stream = SyntheticStream(256 * 1024 * 1024);
var seconds = Measure($"validate a {stream.Length / (1024 * 1024)} MiB send stream in 1 MiB chunks", () =>
{
    var validator = new SendStreamValidator();
    for (var at = 0; at < stream.Length; at += 1 << 20)
    {
        validator.Feed(stream.AsSpan(at, Math.Min(1 << 20, stream.Length - at)));
    }

    validator.Complete();
    return (int)validator.CommandCount;
});
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"send-stream validator throughput: {stream.Length / seconds / (1 << 30):F2} GiB/s"));

static double Measure(string what, Func<int> action)
{
    action(); // warm-up (JIT, tiering)
    var best = double.MaxValue;
    var result = 0;
    for (var run = 0; run < 5; run++)
    {
        var watch = Stopwatch.StartNew();
        result = action();
        best = Math.Min(best, watch.Elapsed.TotalSeconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: best of 5 {best * 1000:F1} ms (result {result:N0})"));
    return best;
}

// A v1 stream of 48 KiB WRITE commands (btrfs send's own write size) with correct CRCs.
static byte[] SyntheticStream(int approximateBytes)
{
    const int Payload = 48 * 1024;
    var commands = approximateBytes / (Payload + 10);
    var data = new byte[17 + ((commands + 1) * (Payload + 10)) - Payload];
    "btrfs-stream\0"u8.CopyTo(data);
    BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(13), 1);
    new Random(7).NextBytes(data.AsSpan(17));
    var at = 17;
    for (var i = 0; i <= commands; i++)
    {
        var length = i == commands ? 0 : Payload;
        var command = data.AsSpan(at, 10 + length);
        BinaryPrimitives.WriteUInt32LittleEndian(command, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(command[4..], i == commands ? SendStreamValidator.EndCommand : (ushort)15);
        command.Slice(6, 4).Clear();
        var crc = 0u;
        foreach (var b in command)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(command[6..], crc);
        at += command.Length;
    }

    return data;
}

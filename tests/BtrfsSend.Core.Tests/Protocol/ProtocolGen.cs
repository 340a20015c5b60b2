using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;

namespace BtrfsSend.Core.Tests.Protocol;

/// <summary>FsCheck generators for protocol values.</summary>
internal static class ProtocolGen
{
    private static readonly DateTime Epoch = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private const string SegmentStart = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SegmentRest = SegmentStart + "._-";

    public static Gen<string> Segment { get; } =
        from first in Gen.Elements(SegmentStart.ToCharArray())
        from rest in Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(Gen.Elements(SegmentRest.ToCharArray()), n))
        let text = first + new string(rest)
        where !text.Contains("..", StringComparison.Ordinal)
        select text;

    public static Gen<BackupSet> Set { get; } =
        from count in Gen.Choose(1, BackupSet.MaxSegments)
        from segments in Gen.ArrayOf(Segment, count)
        select BackupSet.Parse(string.Join('/', segments));

    public static Gen<string> Prefix { get; } = Gen.Elements("root", "home", "prod-srv_data.v2", "A", "x-1", "Snap.2");

    public static Gen<SnapshotName> Snapshot { get; } =
        from prefix in Prefix
        from seconds in Gen.Choose(1, 400_000_000)
        select SnapshotName.Create(prefix, Epoch.AddSeconds(seconds));

    /// <summary>A snapshot and a valid parent for it (same prefix, earlier).</summary>
    public static Gen<(SnapshotName Snapshot, SnapshotName Parent)> SnapshotWithParent { get; } =
        from prefix in Prefix
        from seconds in Gen.Choose(2, 400_000_000)
        from back in Gen.Choose(1, seconds - 1)
        select (SnapshotName.Create(prefix, Epoch.AddSeconds(seconds)), SnapshotName.Create(prefix, Epoch.AddSeconds(seconds - back)));

    public static Gen<Request> Request { get; } = Gen.OneOf(
        Gen.Constant<Request>(new HelloRequest()),
        Gen.Constant<Request>(new OpenLuksRequest()),
        Gen.Constant<Request>(new CloseLuksRequest()),
        Set.Select(s => (Request)new ListRequest(s)),
        Set.Select(s => (Request)new ListReceivedRequest(s)),
        Set.Select(s => (Request)new PruneReceivedRequest(s)),
        Set.Zip(Snapshot, (s, n) => (Request)new GetRequest(s, n)),
        Set.Zip(Snapshot, (s, n) => (Request)new ReceiveStreamRequest(s, n, false, null)),
        Set.Zip(SnapshotWithParent, (s, p) => (Request)new ReceiveStreamRequest(s, p.Snapshot, true, p.Parent)),
        Set.Zip(Snapshot, (s, n) => (Request)new ReceiveRequest(s, n, null)),
        Set.Zip(SnapshotWithParent, (s, p) => (Request)new ReceiveRequest(s, p.Snapshot, p.Parent)));

    /// <summary>
    /// Strings built from grammar tokens, near-misses and junk: valid command lines, valid lines
    /// with one character inserted, deleted or replaced, and token soup joined mostly by single spaces.
    /// </summary>
    public static Gen<string> CommandLike => Gen.Frequency(
        (2, Request.Select(r => r.ToCommandLine())),
        (5, Request.Select(r => r.ToCommandLine()).SelectMany(Mutate)),
        (3, TokenSoup));

    private static Gen<char> Junk { get; } = Gen.Frequency(
        (4, Gen.Elements(" /.-_:;$`'\"|&<>()*?~{}[]!#%+=,@^0129aAzZT".ToCharArray())),
        (2, Gen.Elements('\0', '\t', '\n', '\r', '\x7f', '\u00a0', '\u00e9', '\u0433', '\u2024', '\ufeff', '\uff0f')),
        (1, Gen.Choose(0, 0xffff).Select(c => (char)c)));

    private static Gen<string> Mutate(string line) =>
        from at in Gen.Choose(0, line.Length)
        from op in Gen.Choose(0, 2)
        from c in Junk
        select op switch
        {
            0 => line.Insert(at, c.ToString()),
            1 => at < line.Length ? line.Remove(at, 1) : line + c,
            _ => at < line.Length ? line.Remove(at, 1).Insert(at, c.ToString()) : c + line,
        };

    private static Gen<string> TokenSoup =>
        from pieces in Gen.Choose(1, 7).SelectMany(n => Gen.ArrayOf(Piece, n))
        from separators in Gen.ArrayOf(Gen.Frequency((20, Gen.Constant(" ")), (1, Gen.Elements("", "  ", "\t", "\n", "\0", "\r\n", "\u00a0"))), pieces.Length)
        select string.Concat(pieces.Select((p, i) => i == 0 ? p : separators[i] + p));

    private static Gen<string> Piece { get; } = Gen.Frequency(
        (6, Gen.Elements(
            "hello", "receive-stream", "list", "get", "open-luks", "receive", "list-received", "prune-received", "close-luks", "session",
            "full", "incremental")),
        (6, Set.Select(s => s.Value)),
        (6, Snapshot.Select(s => s.Value)),
        (2, Gen.Elements(
            "HELLO", "Hello", "--help", "-o", "..", "../etc", "/etc/passwd", "a/../b", ".hidden", "a//b", "$(id)", "`id`", ";", "|", "&",
            ">", "<", "*", "~", "'", "\"", "\\", "root-20240101T000000", "root-20241301T000000Z", "\u0433et", "l\u0131st",
            "\ufeffhello", "\u202ehello", "full\0", "x\x7f", "\u00e9")),
        (1, Gen.Choose(0, 20).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 0x17f).Select(c => (char)c), n)).Select(cs => new string(cs))));
}

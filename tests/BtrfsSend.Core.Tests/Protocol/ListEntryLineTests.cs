using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class ListEntryLineTests
{
    [Fact]
    public void List_lines_render_name_kind_parent_bytes_and_received_time()
    {
        var full = new ListEntryLine(SnapshotName.Parse("root-20240101T000000Z"), false, null, 1234, new DateTime(2024, 1, 1, 0, 5, 7, DateTimeKind.Utc));
        var incremental = new ListEntryLine(SnapshotName.Parse("root-20240102T000000Z"), true, SnapshotName.Parse("root-20240101T000000Z"), 56, new DateTime(2024, 1, 2, 0, 1, 2, 999, DateTimeKind.Utc));

        Snapshooter.Xunit.Snapshot.Match(new[] { full.Render(), incremental.Render() });
    }

    [Theory]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z")]
    [InlineData("root-20240102T000000Z incremental root-20240101T000000Z 56 2024-01-02T00:01:02Z")]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z canary=0123456789abcdef0123456789abcdef")]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z compression=zstd")]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z canary=0123456789abcdef0123456789abcdef compression=zstd")]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z proto=2")]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z canary=0123456789abcdef0123456789abcdef compression=zstd proto=2")]
    public void List_lines_parse_and_render_back_unchanged(string line)
    {
        var parsed = ListEntryLine.Parse(line);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(line, parsed.Value!.Render());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("root-20240101T000000Z full - 0")]
    [InlineData("root-20240101T000000Z full - 0 2024-01-01T00:05:07Z x")]
    [InlineData("root-20240101T000000Z full root-20231231T000000Z 0 2024-01-01T00:05:07Z")]
    [InlineData("root-20240101T000000Z incremental - 0 2024-01-01T00:05:07Z")]
    [InlineData("root-20240101T000000Z Full - 0 2024-01-01T00:05:07Z")]
    [InlineData("../x-20240101T000000Z full - 0 2024-01-01T00:05:07Z")]
    [InlineData("root-20240101T000000Z full - -1 2024-01-01T00:05:07Z")]
    [InlineData("root-20240101T000000Z full - 01 2024-01-01T00:05:07Z")]
    [InlineData("root-20240101T000000Z full - 1 2024-01-01 00:05:07")]
    [InlineData("root-20240101T000000Z full - 1 2024-01-01T00:05:07+01:00")]
    [InlineData("root-20240101T000000Z full - 1 20240101T000507Z")]
    [InlineData("root-20240101T000000Z  full - 1 2024-01-01T00:05:07Z")]
    [InlineData("root-20240101T000000Z\tfull - 1 2024-01-01T00:05:07Z")]
    public void Malformed_list_lines_are_refused_with_a_printable_reason(string? line)
    {
        var parsed = ListEntryLine.Parse(line);

        Assert.False(parsed.IsValid);
        Assert.All(parsed.Error!, c => Assert.InRange(c, ' ', '~'));
    }

    private const string Fixed = "root-20240101T000000Z full - 0 2024-01-01T00:05:07Z";
    private const string Hex = "0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData(Fixed + " size=3", "'size=3' is not allowed")]
    [InlineData(Fixed + " canary", "'canary' is not allowed")]
    [InlineData(Fixed + " =zstd", "'=zstd' is not allowed")]
    [InlineData(Fixed + " compression=zstd canary=" + Hex, "is repeated or out of order")]
    [InlineData(Fixed + " canary=" + Hex + " canary=" + Hex, "is repeated or out of order")]
    [InlineData(Fixed + " compression=zstd compression=zstd", "is repeated or out of order")]
    [InlineData(Fixed + " canary=0123456789abcdef0123456789abcdeg", "canary must be exactly 32 lowercase hex digits")]
    [InlineData(Fixed + " canary=0123456789ABCDEF0123456789abcdef", "canary must be exactly 32 lowercase hex digits")]
    [InlineData(Fixed + " canary=0123456789abcdef0123456789abcde", "canary must be exactly 32 lowercase hex digits")]
    [InlineData(Fixed + " canary=0123456789abcdef0123456789abcdef0", "canary must be exactly 32 lowercase hex digits")]
    [InlineData(Fixed + " canary=", "canary must be exactly 32 lowercase hex digits")]
    [InlineData(Fixed + " compression=none", "written only as compression=zstd")]
    [InlineData(Fixed + " compression=ZSTD", "written only as compression=zstd")]
    [InlineData(Fixed + " compression=gzip", "written only as compression=zstd")]
    [InlineData(Fixed + " proto=1", "written only as proto=2")]
    [InlineData(Fixed + " proto=3", "written only as proto=2")]
    [InlineData(Fixed + " proto=2 compression=zstd", "is repeated or out of order")]
    [InlineData(Fixed + " ", "'' is not allowed")]
    [InlineData(Fixed + " canary=" + Hex + " ", "'' is not allowed")]
    [InlineData(Fixed + "  canary=" + Hex, "'' is not allowed")]
    public void Optional_list_tokens_are_strict_and_a_bad_one_is_named_with_what_is_allowed(string line, string reason)
    {
        var parsed = ListEntryLine.Parse(line);

        Assert.False(parsed.IsValid);
        Assert.Contains(reason, parsed.Error, StringComparison.Ordinal);
        Assert.All(parsed.Error!, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public void Optional_list_tokens_are_written_only_when_present_and_canary_first()
    {
        var name = SnapshotName.Parse("root-20240101T000000Z");
        var at = new DateTime(2024, 1, 1, 0, 5, 7, DateTimeKind.Utc);

        Assert.Equal(Fixed, new ListEntryLine(name, false, null, 0, at) { Compression = StreamCompression.None }.Render());
        Assert.Equal($"{Fixed} canary={Hex} compression=zstd",
            new ListEntryLine(name, false, null, 0, at) { Compression = StreamCompression.Zstd, CanaryToken = Hex }.Render());
        Assert.Throws<ArgumentException>(() => new ListEntryLine(name, false, null, 0, at) { CanaryToken = Hex.ToUpperInvariant() });
        Assert.Equal(Fixed, new ListEntryLine(name, false, null, 0, at) { SendProto = 1 }.Render());
        Assert.Equal($"{Fixed} compression=zstd proto=2",
            new ListEntryLine(name, false, null, 0, at) { Compression = StreamCompression.Zstd, SendProto = 2 }.Render());
        Assert.Equal(2, ListEntryLine.Parse($"{Fixed} proto=2").Value!.SendProto);
        Assert.Equal(1, ListEntryLine.Parse(Fixed).Value!.SendProto);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ListEntryLine(name, false, null, 0, at) { SendProto = 3 });
    }

    [Fact]
    public void List_line_needs_a_parent_exactly_for_an_incremental()
    {
        var name = SnapshotName.Parse("root-20240102T000000Z");
        var parent = SnapshotName.Parse("root-20240101T000000Z");
        var now = DateTime.UtcNow;

        Assert.Throws<ArgumentException>(() => new ListEntryLine(name, true, null, 1, now));
        Assert.Throws<ArgumentException>(() => new ListEntryLine(name, false, parent, 1, now));
    }

    [Property(MaxTest = 300)]
    public Property List_lines_round_trip()
        => Prop.ForAll(
            (from pair in ProtocolGen.SnapshotWithParent
             from isIncremental in Gen.Elements(true, false)
             from bytes in Gen.Choose(0, int.MaxValue)
             from seconds in Gen.Choose(0, int.MaxValue)
             from canary in Gen.OneOf(Gen.Constant<string?>(null),
                 Gen.ArrayOf(Gen.Elements("0123456789abcdef".ToCharArray()), 32).Select(c => (string?)new string(c)))
             from compression in Gen.Elements(StreamCompression.None, StreamCompression.Zstd)
             select new ListEntryLine(pair.Snapshot, isIncremental, isIncremental ? pair.Parent : null, bytes * 3L,
                 DateTime.UnixEpoch.AddSeconds(seconds))
             { CanaryToken = canary, Compression = compression }).ToArbitrary(),
            entry => ListEntryLine.Parse(entry.Render()).Value is { } back && back.Equals(entry));
}

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
             select new ListEntryLine(pair.Snapshot, isIncremental, isIncremental ? pair.Parent : null, bytes * 3L,
                 DateTime.UnixEpoch.AddSeconds(seconds))).ToArbitrary(),
            entry => ListEntryLine.Parse(entry.Render()).Value is { } back && back.Equals(entry));
}

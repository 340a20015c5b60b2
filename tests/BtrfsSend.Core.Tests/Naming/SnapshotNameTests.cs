using BtrfsSend.Core.Naming;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Naming;

public sealed class SnapshotNameTests
{
    [Fact]
    public void Create_formats_the_UTC_time_and_drops_subseconds()
    {
        var name = SnapshotName.Create("prod-srv-rootfs", new DateTimeOffset(2026, 3, 4, 7, 5, 6, 789, TimeSpan.FromHours(2)));

        Assert.Equal("prod-srv-rootfs-20260304T050506Z", name.Value);
        Assert.Equal(new DateTime(2026, 3, 4, 5, 5, 6, DateTimeKind.Utc), name.TimestampUtc);
        Assert.Equal(DateTimeKind.Utc, name.TimestampUtc.Kind);
    }

    [Theory]
    [InlineData("prod-srv-rootfs-20260304T050506Z", "prod-srv-rootfs")]
    [InlineData("a-20000101T000000Z", "a")]
    [InlineData("A.b_c-20241231T235959Z", "A.b_c")]
    [InlineData("x--20240229T120000Z", "x-")]
    public void Valid_names_parse_into_prefix_and_time(string value, string prefix)
    {
        var check = SnapshotName.Check(value);

        Assert.True(check.IsValid, check.Error);
        Assert.Equal(prefix, check.Value!.Prefix);
        Assert.Equal(value, check.Value.Value);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("prod", "does not end in -yyyyMMddTHHmmssZ")]
    [InlineData("-20260101T000000Z", "does not end in -yyyyMMddTHHmmssZ")]
    [InlineData("prod-2026010T000000Z", "does not end in -yyyyMMddTHHmmssZ")]
    [InlineData("prod-20261301T000000Z", "not a valid UTC time")]
    [InlineData("prod-20260230T000000Z", "not a valid UTC time")]
    [InlineData("prod-20230229T000000Z", "not a valid UTC time")]
    [InlineData("prod-20260101T240000Z", "not a valid UTC time")]
    [InlineData("prod-20260101T000060Z", "not a valid UTC time")]
    [InlineData("prod-20260101t000000z", "not a valid UTC time")]
    [InlineData("prod-20260101T000000+", "not a valid UTC time")]
    [InlineData("prod-2026010\u0661T000000Z", "not a valid UTC time")]
    [InlineData("prod-20260101 000000Z", "not a valid UTC time")]
    [InlineData(".prod-20260101T000000Z", "starts with a dot")]
    [InlineData("a..b-20260101T000000Z", "'..'")]
    [InlineData("../x-20260101T000000Z", "'..'")]
    [InlineData("a/b-20260101T000000Z", "'/'")]
    [InlineData("_a-20260101T000000Z", "must start with")]
    [InlineData("pr od-20260101T000000Z", "a space")]
    [InlineData("pr\nod-20260101T000000Z", "\\x0a")]
    [InlineData("pr\0od-20260101T000000Z", "\\x00")]
    [InlineData("pr\u00f6d-20260101T000000Z", "\\xf6")]
    [InlineData("--help-20260101T000000Z", "must start with")]
    public void Invalid_names_are_refused_with_the_reason(string value, string reason)
    {
        var check = SnapshotName.Check(value);

        Assert.False(check.IsValid);
        Assert.Contains(reason, check.Error, StringComparison.Ordinal);
        Assert.Contains("allowed:", check.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', check.Error!);
    }

    [Fact]
    public void A_prefix_of_100_characters_is_the_longest_allowed()
    {
        Assert.True(SnapshotName.Check(new string('p', 100) + "-20260101T000000Z").IsValid);

        var check = SnapshotName.Check(new string('p', 101) + "-20260101T000000Z");

        Assert.Contains("characters long", check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_refuses_an_invalid_prefix()
    {
        var e = Assert.Throws<ArgumentException>(() => SnapshotName.Create("../etc", DateTimeOffset.UnixEpoch));

        Assert.Contains("starts with a dot", e.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 500)]
    public Property Create_then_Value_then_Parse_round_trips() =>
        Prop.ForAll(NameArbitraries.SnapshotParts(), parts =>
        {
            var created = SnapshotName.Create(parts.Prefix, parts.Time);
            var parsed = SnapshotName.Parse(created.Value);
            var seconds = parts.Time.ToUnixTimeSeconds();
            return parsed == created
                && parsed.Prefix == parts.Prefix
                && new DateTimeOffset(parsed.TimestampUtc).ToUnixTimeSeconds() == seconds;
        });

    [Property(MaxTest = 2000)]
    public Property Arbitrary_strings_are_refused_or_round_trip_exactly_and_are_path_safe() =>
        Prop.ForAll(NameArbitraries.HostileStrings(), value =>
        {
            var check = SnapshotName.Check(value);
            if (!check.IsValid)
            {
                return check.Error is { Length: > 0 } error && !error.Contains('\n', StringComparison.Ordinal);
            }

            var v = check.Value!.Value;
            return v == value
                && !v.Contains('/', StringComparison.Ordinal)
                && !v.Contains("..", StringComparison.Ordinal)
                && !v.Contains('\0', StringComparison.Ordinal)
                && !v.Any(char.IsWhiteSpace)
                && v[0] != '.';
        });
}

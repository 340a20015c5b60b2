using BtrfsSend.Core.Naming;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Naming;

public sealed class BackupSetTests
{
    [Theory]
    [InlineData("prod-srv/rootfs")]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("a/b/c/d")]
    [InlineData("web_1.example-org/var.lib")]
    public void Valid_sets_are_accepted_and_keep_their_text(string value)
    {
        var check = BackupSet.Check(value);

        Assert.True(check.IsValid, check.Error);
        Assert.Equal(value, check.Value!.Value);
        Assert.Equal(value.Split('/'), check.Value.Segments);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("..", "'..'")]
    [InlineData("prod/../etc", "'..'")]
    [InlineData("prod/a..b", "'..'")]
    [InlineData("/etc", "starts with '/'")]
    [InlineData("prod/", "empty segment")]
    [InlineData("prod//rootfs", "empty segment")]
    [InlineData(".hidden", "starts with a dot")]
    [InlineData("prod/.tmp", "starts with a dot")]
    [InlineData("a/b/c/d/e", "5 segments")]
    [InlineData("Prod", "must start with a-z or 0-9")]
    [InlineData("-x", "must start with a-z or 0-9")]
    [InlineData("prod srv", "a space")]
    [InlineData("prod\tsrv", "\\x09")]
    [InlineData("prod\nsrv", "\\x0a")]
    [InlineData("prod\0srv", "\\x00")]
    [InlineData("prod;rm", "';'")]
    [InlineData("prod$(id)", "'$'")]
    [InlineData("pröd", "\\xf6")]
    [InlineData("prod\u202esrv", "\\u{202e}")]
    [InlineData("prOd", "'O'")]
    public void Invalid_sets_are_refused_with_the_reason(string value, string reason)
    {
        var check = BackupSet.Check(value);

        Assert.False(check.IsValid);
        Assert.Null(check.Value);
        Assert.Contains(reason, check.Error, StringComparison.Ordinal);
        Assert.Contains("allowed:", check.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', check.Error!);
    }

    [Fact]
    public void A_segment_longer_than_64_characters_is_refused()
    {
        Assert.True(BackupSet.Check(new string('a', 64)).IsValid);

        var check = BackupSet.Check(new string('a', 65));

        Assert.Contains("65 characters", check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_value_is_refused_by_length_without_echoing_it()
    {
        var check = BackupSet.Check(new string('a', 100_000));

        Assert.Contains("100000 characters", check.Error, StringComparison.Ordinal);
        Assert.True(check.Error!.Length < 300);
    }

    [Property(MaxTest = 500)]
    public Property Generated_valid_sets_round_trip() =>
        Prop.ForAll(NameArbitraries.BackupSets(), value =>
        {
            var check = BackupSet.Check(value);
            return check.IsValid && check.Value!.Value == value && BackupSet.Parse(check.Value.ToString()) == check.Value;
        });

    [Property(MaxTest = 2000)]
    public Property Arbitrary_strings_are_refused_or_safe_as_a_relative_path() =>
        Prop.ForAll(NameArbitraries.HostileStrings(), value =>
        {
            var check = BackupSet.Check(value);
            if (!check.IsValid)
            {
                return check.Error is { Length: > 0 } error && !error.Contains('\n', StringComparison.Ordinal);
            }

            var v = check.Value!.Value;
            return v == value
                && !v.StartsWith('/')
                && !v.Contains("..", StringComparison.Ordinal)
                && v.Split('/').All(s => s.Length > 0 && s[0] != '.')
                && v.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' or '/');
        });
}

using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class ResponseLineTests
{
    private const string Hash = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

    [Fact]
    public void Ok_line_renders_hash_then_bytes()
        => Assert.Equal($"OK {Hash} 11", new OkLine(Hash, 11).Render());

    [Fact]
    public void Err_line_renders_code_then_message()
        => Assert.Equal("ERR exists snapshot root-20240101T000000Z is already stored", new ErrLine(ErrorCodes.Exists, "snapshot root-20240101T000000Z is already stored").Render());

    [Theory]
    [InlineData("OK " + Hash + " 0")]
    [InlineData("OK " + Hash + " 9223372036854775807")]
    [InlineData("ERR bad-command unknown command 'x'; allowed: hello")]
    [InlineData("ERR some-future-code a message from a newer receiver")]
    [InlineData("ERR busy x")]
    public void Response_lines_parse_and_render_back_unchanged(string line)
    {
        var parsed = ResponseLine.Parse(line);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(line, parsed.Value!.Render());
    }

    [Fact]
    public void Ok_line_parses_into_hash_and_count_that_match_what_was_sent()
    {
        var ok = Assert.IsType<OkLine>(ResponseLine.Parse($"OK {Hash} 11").Value);

        Assert.True(ok.Matches(Hash, 11));
        Assert.False(ok.Matches(Hash, 12));
        Assert.False(ok.Matches(Hash.ToUpperInvariant(), 11));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("OK")]
    [InlineData("OK ")]
    [InlineData("ok " + Hash + " 11")]
    [InlineData("OK " + Hash)]
    [InlineData("OK " + Hash + " 11 extra")]
    [InlineData("OK " + Hash + "  11")]
    [InlineData("OK " + Hash + " -1")]
    [InlineData("OK " + Hash + " +1")]
    [InlineData("OK " + Hash + " 011")]
    [InlineData("OK " + Hash + " 9223372036854775808")]
    [InlineData("OK " + Hash + " 1e3")]
    [InlineData("OK " + Hash + " 11\r")]
    [InlineData("OK B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9 11")]
    [InlineData("OK b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde 11")]
    [InlineData("OK b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9a 11")]
    [InlineData("ERR")]
    [InlineData("ERR ")]
    [InlineData("ERR exists")]
    [InlineData("ERR exists ")]
    [InlineData("ERR Exists message")]
    [InlineData("ERR -x message")]
    [InlineData("ERR exists\tmessage")]
    [InlineData("ERR exists a\nOK " + Hash + " 11")]
    [InlineData("ERR exists caf\u00e9")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream")]
    [InlineData("Warning: Permanently added 'host' to the list of known hosts.")]
    public void Malformed_response_lines_are_refused_with_a_reason(string? line)
    {
        var parsed = ResponseLine.Parse(line);

        Assert.False(parsed.IsValid);
        Assert.All(parsed.Error!, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public void Err_line_from_any_text_is_one_printable_line()
    {
        var line = ErrLine.From(ErrorCodes.IoError, "disk\nfull\0 caf\u00e9 " + new string('x', 5000));

        Assert.Equal(ErrLine.MaxMessageLength, line.Message.Length);
        Assert.StartsWith("disk?full? caf? x", line.Message, StringComparison.Ordinal);
        Assert.True(ResponseLine.Parse(line.Render()).IsValid);
    }

    [Fact]
    public void Err_line_from_an_empty_message_uses_the_code()
        => Assert.Equal("ERR internal internal", ErrLine.From(ErrorCodes.Internal, "").Render());

    [Theory]
    [InlineData("", "m")]
    [InlineData("Bad", "m")]
    [InlineData("bad code", "m")]
    [InlineData("exists", "")]
    [InlineData("exists", "a\nb")]
    public void Err_line_refuses_a_malformed_code_or_message(string code, string message)
        => Assert.Throws<ArgumentException>(() => new ErrLine(code, message));

    [Theory]
    [InlineData("")]
    [InlineData("B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9")]
    public void Ok_line_refuses_a_hash_that_is_not_64_lowercase_hex_digits(string hash)
        => Assert.Throws<ArgumentException>(() => new OkLine(hash, 1));

    [Fact]
    public void Every_error_code_is_well_formed_and_listed_once()
    {
        Assert.All(ErrorCodes.All, code => Assert.True(ErrorCodes.IsWellFormed(code), code));
        Assert.Equal(ErrorCodes.All.Count, ErrorCodes.All.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(19, ErrorCodes.All.Count);
    }

    [Property(MaxTest = 300)]
    public Property Ok_lines_round_trip()
        => Prop.ForAll(
            Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 32).Zip(Gen.Choose(0, int.MaxValue).Select(n => (long)n * 7919)).ToArbitrary(),
            c =>
            {
                var ok = new OkLine(Convert.ToHexStringLower(c.Item1), c.Item2);
                return ResponseLine.Parse(ok.Render()).Value is OkLine back && back.Equals(ok);
            });

    [Property(MaxTest = 300)]
    public bool Err_lines_from_any_text_round_trip(string? message)
    {
        var err = ErrLine.From(ErrorCodes.Forbidden, message);
        return ResponseLine.Parse(err.Render()).Value is ErrLine back && back.Equals(err);
    }
}

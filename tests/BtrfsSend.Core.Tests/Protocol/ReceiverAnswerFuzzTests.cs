using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

/// <summary>
/// What a hostile backup server can answer to hello and to an upload: any text, control
/// characters, CRLF, NUL, overlong lines. The producer's parsers give a value or a printable
/// reason, and never throw.
/// </summary>
public sealed class ReceiverAnswerFuzzTests
{
    private static readonly string[] Hostile =
    [
        "", "\0", "OK\0", "ERR", "ERR \r\n", "OK " + new string('a', 64) + " 1\r", "OK " + new string('a', 64) + " -1",
        "OK " + new string('a', 64) + " 99999999999999999999999", "ERR exists \u001b[2J", "ERR " + new string('x', 100_000),
        "btrfs-backup-receive 1 proto=99999999999999999999 modes=encrypted-stream", "btrfs-backup-receive 1 proto=1 modes=",
        "btrfs-backup-receive 1 proto=1 modes=,,,", "btrfs-backup-receive 1 proto= modes=encrypted-stream",
        "btrfs-backup-receive " + new string('9', 100_000) + " proto=1 modes=encrypted-stream", "\uFEFFOK", "ÖK",
    ];

    public static TheoryData<string> HostileLines() => new(Hostile);

    [Theory]
    [MemberData(nameof(HostileLines))]
    public void A_hostile_answer_is_refused_or_parsed_with_a_printable_reason_and_never_throws(string line)
    {
        var hello = HelloLine.Parse(line);
        var response = ResponseLine.Parse(line);

        Assert.True(hello.IsValid || hello.Error!.All(c => c is >= ' ' and <= '~'), hello.Error);
        Assert.True(response.Value is not null || response.Error!.All(c => c is >= ' ' and <= '~'), response.Error);
        Assert.True(hello.Error is null || hello.Error.Length <= 2000, "the reason for a refused hello is bounded");
    }

    [Property(MaxTest = 1000)]
    public Property Any_text_as_a_hello_or_response_line_is_a_value_or_a_printable_reason()
        => Prop.ForAll(
            Gen.OneOf(ArbMap.Default.GeneratorFor<string>(), Gen.Elements(Hostile), ArbMap.Default.GeneratorFor<string>().Select(s => "OK " + s), ArbMap.Default.GeneratorFor<string>().Select(s => "ERR " + s), ArbMap.Default.GeneratorFor<string>().Select(s => "btrfs-backup-receive 1 proto=1 " + s)).ToArbitrary(),
            line =>
            {
                var hello = HelloLine.Parse(line);
                var response = ResponseLine.Parse(line);
                return (hello.IsValid || hello.Error!.All(c => c is >= ' ' and <= '~'))
                    && (response.Value is not null || response.Error!.All(c => c is >= ' ' and <= '~'));
            });
}

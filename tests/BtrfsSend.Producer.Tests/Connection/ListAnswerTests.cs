using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Connection;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Connection;

public sealed class ListAnswerTests
{
    private static readonly BackupSet Set = BackupSet.Check("prod/rootfs").Value!;
    private const string Full = "root-20240101T000000Z full - 1234 2024-01-01T00:05:07Z";
    private const string Incr = "root-20240102T000000Z incremental root-20240101T000000Z 56 2024-01-02T00:01:02Z";

    [Fact]
    public void A_well_formed_list_parses_in_order()
    {
        var entries = ListAnswer.Parse($"{Full}\n{Incr}\n", Set);

        Assert.Equal(["root-20240101T000000Z", "root-20240102T000000Z"], entries.Select(e => e.Snapshot.Value));
    }

    public static TheoryData<string, string, string> Hostile => new()
    {
        { "a duplicate list line", $"{Full}\n{Full}\n", "names snapshot root-20240101T000000Z twice (line 2)" },
        { "the same snapshot listed with another kind", $"{Full}\nroot-20240101T000000Z incremental root-20231231T000000Z 5 2024-01-01T00:05:07Z\n", "twice (line 2)" },
        { "an overlong line", Full + " " + new string('x', 2000) + "\n", "longer than 1024 characters (line 1)" },
        { "a NUL byte", Full.Replace("1234", "12\u00004", StringComparison.Ordinal) + "\n", "cannot read (line 1)" },
        { "a control character", Full + "\u001b[2J\n", "cannot read (line 1)" },
        { "CRLF line ends", $"{Full}\r\n{Incr}\r\n", "cannot read (line 1)" },
        { "an ERR-looking line in the middle", $"{Full}\nERR internal boom\n", "cannot read (line 2)" },
        { "a huge size", "root-20240101T000000Z full - 99999999999999999999999 2024-01-01T00:05:07Z\n", "cannot read (line 1)" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_list_is_one_clear_transfer_error_never_a_crash(string what, string stdout, string expected)
    {
        var ex = Assert.Throws<TransferFailedException>(() => ListAnswer.Parse(stdout, Set));

        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{what}: {ex.Message}");
        Assert.StartsWith("the receiver's list of prod/rootfs ", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Property(MaxTest = 500)]
    public Property Any_answer_parses_or_is_a_one_line_transfer_error()
        => Prop.ForAll(
            Gen.Elements(Full, Incr, "", "\r", "\0", " ", "\n", "x", "ERR bad-set no", new string('9', 1100), "root-20240101T000000Z", "full", "-", "canary=00")
                .ListOf().Select(parts => string.Concat(parts)).ToArbitrary(),
            stdout =>
            {
                try
                {
                    var entries = ListAnswer.Parse(stdout, Set);
                    return entries.Select(e => e.Snapshot.Value).Distinct(StringComparer.Ordinal).Count() == entries.Count;
                }
                catch (TransferFailedException ex)
                {
                    return !ex.Message.Contains('\n', StringComparison.Ordinal);
                }
            });
}

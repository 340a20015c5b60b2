using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class SessionRulesTests
{
    [Theory]
    [InlineData("hello")]
    [InlineData("list a")]
    [InlineData("receive-stream a root-20240102T030405Z full")]
    [InlineData("open-luks")]
    [InlineData("receive a root-20240102T030405Z")]
    [InlineData("list-received a")]
    [InlineData("prune-received a")]
    [InlineData("close-luks")]
    public void A_session_serves_every_verb_a_backup_run_uses(string line)
    {
        var checkedLine = SessionRules.Check(CommandGrammar.Parse(line), requestNumber: 1, uploadsBefore: 0);

        Assert.True(checkedLine.IsValid, checkedLine.Error);
    }

    [Theory]
    [InlineData("session", "'session' is not served inside a session")]
    [InlineData("get a root-20240102T030405Z", "'get' is not served inside a session")]
    public void A_session_refuses_a_nested_session_and_get(string line, string expected)
    {
        var checkedLine = SessionRules.Check(CommandGrammar.Parse(line), requestNumber: 1, uploadsBefore: 0);

        Assert.False(checkedLine.IsValid);
        Assert.Equal(ErrorCodes.BadCommand, checkedLine.ErrorCode);
        Assert.Contains(expected, checkedLine.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("receive-stream a root-20240102T030405Z full")]
    [InlineData("receive a root-20240102T030405Z")]
    public void A_session_carries_one_upload_only(string line)
    {
        var checkedLine = SessionRules.Check(CommandGrammar.Parse(line), requestNumber: 3, uploadsBefore: 1);

        Assert.False(checkedLine.IsValid);
        Assert.Contains("at most 1 upload", checkedLine.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_carries_at_most_sixteen_requests()
    {
        Assert.True(SessionRules.Check(CommandGrammar.Parse("hello"), SessionRules.MaxRequests, 0).IsValid);

        var seventeenth = SessionRules.Check(CommandGrammar.Parse("hello"), SessionRules.MaxRequests + 1, 0);

        Assert.False(seventeenth.IsValid);
        Assert.Contains("at most 16 requests", seventeenth.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_grammar_refusal_stays_the_grammar_refusal_inside_a_session()
    {
        var checkedLine = SessionRules.Check(CommandGrammar.Parse("list ../etc"), 1, 0);

        Assert.Equal(ErrorCodes.BadSet, checkedLine.ErrorCode);
    }

    [Theory]
    [InlineData("DONE hello", "hello")]
    [InlineData("DONE receive-stream", "receive-stream")]
    [InlineData("DONE ", null)]
    [InlineData("DONE Hello", null)]
    [InlineData("DONE hello ", null)]
    [InlineData("DONEhello", null)]
    [InlineData("OK " + "aa 1", null)]
    public void A_done_line_names_one_lowercase_verb(string line, string? verb)
    {
        Assert.Equal(verb, SessionRules.ParseDone(line));
    }

    [Fact]
    public void A_done_line_renders_the_verb_of_its_request()
    {
        Assert.Equal("DONE list-received", SessionRules.RenderDone(CommandGrammar.Parse("list-received a").Request!));
    }

    [Theory]
    [InlineData("end")]
    [InlineData("check")]
    [InlineData("prune")]
    [InlineData("adopt a")]
    [InlineData("close-stale")]
    [InlineData("replicate")]
    [InlineData("serve -- hello")]
    [InlineData("DONE hello")]
    [InlineData("OK aaaa 1")]
    public void A_local_verb_or_an_answer_line_is_an_unknown_command_inside_a_session(string line)
    {
        var checkedLine = SessionRules.Check(CommandGrammar.Parse(line), requestNumber: 2, uploadsBefore: 0);

        Assert.False(checkedLine.IsValid);
        Assert.Equal(ErrorCodes.BadCommand, checkedLine.ErrorCode);
        Assert.Contains("unknown command", checkedLine.Error, StringComparison.Ordinal);
    }

    [Property(MaxTest = 2000)]
    public Property Any_request_line_in_a_session_is_served_or_refused_with_one_printable_reason_and_never_throws()
    {
        var verbs = Gen.Elements("hello", "list a", "receive-stream a root-20240102T030405Z full", "receive a root-20240102T030405Z", "open-luks",
            "list-received a", "prune-received a", "close-luks", "get a root-20240102T030405Z", "session", "end", "check");
        var line = Gen.OneOf(verbs, ArbMap.Default.GeneratorFor<string>(), verbs.SelectMany(v => ArbMap.Default.GeneratorFor<string>().Select(t => v + t)));
        return Prop.ForAll(line.ToArbitrary(), Gen.Choose(1, 20).ToArbitrary(), Gen.Choose(0, 2).ToArbitrary(), (text, number, uploads) =>
        {
            var result = SessionRules.Check(CommandGrammar.Parse(text ?? ""), number, uploads);
            return result.IsValid
                ? SessionRules.IsServed(result.Request!) && number <= SessionRules.MaxRequests && (!SessionRules.IsUpload(result.Request!) || uploads == 0)
                : result.Error!.Length is > 0 and <= 2000 && result.Error.All(c => c is >= ' ' and <= '~') && ErrorCodes.All.Contains(result.ErrorCode!);
        });
    }
}

using BtrfsSend.Core.Protocol;

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
}

using BtrfsSend.Core.Configuration;
using Microsoft.Extensions.Configuration;

namespace BtrfsSend.Core.Tests.Configuration;

public sealed class ShellConfigParserTests
{
    [Theory]
    [InlineData("A=b", "b")]
    [InlineData("A=", "")]
    [InlineData("A=''", "")]
    [InlineData("A=\"\"", "")]
    [InlineData("  A=b  # comment", "b")]
    [InlineData("export A=b", "b")]
    [InlineData("export\tA=b", "b")]
    [InlineData("A='b c'", "b c")]
    [InlineData("A=\"b c\"", "b c")]
    [InlineData("A='it'\\''s'", "it's")]
    [InlineData("A=\"say \\\"hi\\\" \\\\ \\$x\"", "say \"hi\" \\ $x")]
    [InlineData("A='$HOME `x` $(id)'", "$HOME `x` $(id)")]
    [InlineData("A=b\\ c", "b c")]
    [InlineData("A=#notacomment", "#notacomment")]
    [InlineData("A=b#c", "b#c")]
    [InlineData("A=a'b'\"c\"", "abc")]
    [InlineData("A=/path/with=equals", "/path/with=equals")]
    [InlineData("A=héllo", "héllo")]
    public void Values_read_as_bash_would(string line, string expected)
    {
        var result = ShellConfigParser.Parse(line);

        Assert.Empty(result.Errors);
        var a = Assert.Single(result.Assignments);
        Assert.Equal("A", a.Key);
        Assert.Equal(expected, a.Value);
        Assert.False(a.IsArray);
    }

    [Theory]
    [InlineData("A=(a b c)", new[] { "a", "b", "c" })]
    [InlineData("A=()", new string[0])]
    [InlineData("A=( )", new string[0])]
    [InlineData("A=('a b' \"c\" d\\ e)", new[] { "a b", "c", "d e" })]
    [InlineData("A=(a b) # trailing comment", new[] { "a", "b" })]
    [InlineData("A=(\n  nginx # web\n  # a comment line\n  mysql\n)", new[] { "nginx", "mysql" })]
    [InlineData("A=(a\nb)", new[] { "a", "b" })]
    [InlineData("A=(php8.2-fpm user@1.service)", new[] { "php8.2-fpm", "user@1.service" })]
    public void Bash_arrays_become_word_lists(string text, string[] expected)
    {
        var result = ShellConfigParser.Parse(text);

        Assert.Empty(result.Errors);
        var a = Assert.Single(result.Assignments);
        Assert.Equal(expected, a.Items);
        Assert.Equal(1, a.Line);
    }

    [Theory]
    [InlineData("A = b", "no spaces around '='")]
    [InlineData("A =b", "no spaces around '='")]
    [InlineData("1A=b", "is not an assignment")]
    [InlineData("just words", "is not an assignment")]
    [InlineData("A=b c", "unquoted space in the value")]
    [InlineData("A=$HOME/x", "'$' would be expanded by bash")]
    [InlineData("A=$(id)", "'$' would be expanded")]
    [InlineData("A=`id`", "'`' would be expanded")]
    [InlineData("A=\"$HOME\"", "inside double quotes would be expanded")]
    [InlineData("A=~/x", "'~' would be expanded")]
    [InlineData("A=b;rm -rf /", "shell operator ';'")]
    [InlineData("A=b|c", "shell operator '|'")]
    [InlineData("A=b&", "shell operator '&'")]
    [InlineData("A=b>c", "shell operator '>'")]
    [InlineData("A='b", "unterminated single quote")]
    [InlineData("A=\"b", "unterminated double quote")]
    [InlineData("A=b\\", "line continuation")]
    [InlineData("A=b\r", "carriage return")]
    [InlineData("A=(a b", "no closing ')'")]
    [InlineData("A=(a b) c", "text after the closing ')'")]
    [InlineData("A=(a *.conf)", "filename pattern")]
    [InlineData("A=(a $(id))", "'$' would be expanded")]
    [InlineData("A=b\u0001", "\\x01")]
    public void What_bash_would_read_differently_is_refused_with_its_line(string line, string reason)
    {
        var result = ShellConfigParser.Parse("# header\n" + line);

        var e = Assert.Single(result.Errors);
        Assert.Equal(2, e.Line);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.Contains("allowed:", e.Message, StringComparison.Ordinal);
        Assert.Empty(result.Assignments);
    }

    [Fact]
    public void The_seed_prod_conf_parses_with_lines()
    {
        var result = ShellConfigParser.Parse(SeedFiles.ProdConf);

        Assert.Empty(result.Errors);
        Assert.Equal(16, result.Assignments.Count);
        var services = result.Assignments.Single(a => a.Key == "SERVICES_TO_QUIESCE");
        Assert.Equal(["nginx", "php8.2-fpm", "mysql", "postgresql", "redis-server"], services.Items);
        Assert.Equal(20, services.Line);
        Assert.Equal("", result.Assignments.Single(a => a.Key == "BACKUP_SSH_PORT").Value);
    }

    [Fact]
    public void The_INI_provider_cannot_read_the_seed_files_as_bash_does()
    {
        using var dir = new BtrfsSend.TestSupport.TempDir("ini");
        var seed = dir.Sub("prod.conf");
        File.WriteAllText(seed, SeedFiles.ProdConf);
        var ini = new ConfigurationBuilder().AddIniFile(seed).Build();

        // The array is one opaque string with parentheses, not five services.
        Assert.Equal("(nginx php8.2-fpm mysql postgresql redis-server)", ini["SERVICES_TO_QUIESCE"]);
        Assert.Empty(ini.GetSection("SERVICES_TO_QUIESCE").GetChildren());

        // Single quotes are kept as part of the value; 'export' becomes part of the key.
        var quoted = dir.Sub("quoted.conf");
        File.WriteAllText(quoted, "A='x y'\nexport B=1\nC=\"it\\\"s\"\n");
        var q = new ConfigurationBuilder().AddIniFile(quoted).Build();
        Assert.Equal("'x y'", q["A"]);
        Assert.Null(q["B"]);
        Assert.Equal("1", q["export B"]);
        Assert.NotEqual("it\"s", q["C"]);

        // The shell scripts' README tells remote-btrfs users to add lines that repeat keys; bash takes the last,
        // the INI provider refuses the whole file.
        var both = dir.Sub("both.conf");
        File.WriteAllText(both, SeedFiles.ProdConf + SeedFiles.RemoteBtrfsLines);
        var e = Assert.Throws<InvalidDataException>(() => new ConfigurationBuilder().AddIniFile(both).Build());
        Assert.Contains("duplicate key", e.InnerException?.Message ?? "", StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Only_client_keys_may_contain_dashes_and_dots()
    {
        Assert.Equal("CLIENT_prod-srv.1", Assert.Single(ShellConfigParser.Parse("CLIENT_prod-srv.1=a/").Assignments).Key);
        Assert.Contains("is not an assignment", Assert.Single(ShellConfigParser.Parse("KEEP-DAILY=1").Errors).Message, StringComparison.Ordinal);
    }
}

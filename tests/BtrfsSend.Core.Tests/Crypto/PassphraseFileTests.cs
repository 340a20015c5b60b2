using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Crypto;

public class PassphraseFileTests
{
    [Theory]
    [InlineData("secret\n", "secret")]
    [InlineData("secret", "secret")]
    [InlineData("secret\nsecond line\n", "secret")]
    [InlineData("sec ret\r\n", "sec ret\r")]
    [InlineData("ünï\n", "ünï")]
    public void Passphrase_is_the_first_line_without_its_newline_as_gpg_reads_it(string content, string expected)
    {
        using var dir = new TempDir("pass");
        var path = dir.Sub("p");
        File.WriteAllText(path, content);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(expected), PassphraseFile.ReadFirstLine(path));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\nsecond line\n")]
    public void An_empty_first_line_is_refused_with_a_clear_message(string content)
    {
        using var dir = new TempDir("pass");
        var path = dir.Sub("p");
        File.WriteAllText(path, content);
        var ex = Assert.Throws<ConfigException>(() => EncryptionKeys.FromPassphraseFile(path));
        Assert.Contains("empty first line", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_passphrase_file_is_a_config_error_naming_the_file()
    {
        var ex = Assert.Throws<ConfigException>(() => DecryptionKeys.FromPassphraseFile("/nonexistent/pass\u0001"));
        Assert.Contains("/nonexistent/pass\\x01", ex.Message, StringComparison.Ordinal);
    }
}

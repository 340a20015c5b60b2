using BtrfsSend.Core.Configuration;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Configuration;

public sealed class CanaryFileConfigTests : IDisposable
{
    private readonly TempDir dir = new("cfg-canary");

    public void Dispose() => dir.Dispose();

    private ConfigResult<ProducerOptions> Load(string? canary)
    {
        var passphrase = dir.Sub("passphrase");
        File.WriteAllText(passphrase, "secret\n");
        File.SetUnixFileMode(passphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var env = new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = passphrase };
        if (canary is not null)
        {
            env["CANARY_FILE"] = canary;
        }

        var conf = dir.Sub("prod.conf");
        File.WriteAllText(conf, SeedFiles.ProdConf);
        return ConfigLoader.LoadProducer(conf, new Dictionary<string, string?>(), env);
    }

    [Theory]
    [InlineData(".btrfs-send-canary")]
    [InlineData("var/lib/btrfs-send/canary")]
    [InlineData("with space/..dots../ü")]
    public void A_relative_path_inside_the_subvolume_is_accepted(string canary)
    {
        var result = Load(canary);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(canary, result.Options!.CanaryFilePath);
    }

    [Fact]
    public void Unset_or_empty_means_no_canary()
    {
        Assert.Null(Load(null).Options!.CanaryFilePath);
        Assert.Null(Load("").Options!.CanaryFilePath);
    }

    [Theory]
    [InlineData("/etc/canary", "is absolute")]
    [InlineData("../outside", "'..'")]
    [InlineData("a/../../b", "'..'")]
    [InlineData("a//b", "empty segment")]
    [InlineData("./a", "'.'")]
    [InlineData("dir/", "empty segment")]
    [InlineData("a\nb", "control character")]
    [InlineData("a\0b", "control character")]
    public void A_path_that_could_leave_the_subvolume_is_a_one_line_error_naming_the_key(string canary, string why)
    {
        var result = Load(canary);

        Assert.False(result.IsValid);
        var error = Assert.Single(result.Errors);
        Assert.Equal("CANARY_FILE", error.Key);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.Contains("allowed: a path relative to the source subvolume", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\0", error.ToString(), StringComparison.Ordinal);
    }
}

using BtrfsSend.Core.Configuration;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Configuration;

public sealed class BandwidthLimitConfigTests : IDisposable
{
    private readonly TempDir dir = new("cfg-bw");

    public void Dispose() => dir.Dispose();

    [Theory]
    [InlineData(null, null)]
    [InlineData("0", null)]
    [InlineData("1K", 1024L)]
    [InlineData("20M", 20L * 1024 * 1024)]
    [InlineData("20m", 20L * 1024 * 1024)]
    [InlineData("2G", 2L * 1024 * 1024 * 1024)]
    [InlineData("500000", 500000L)]
    public void BWLIMIT_is_bytes_per_second_with_K_M_G_as_powers_of_1024_and_0_or_unset_means_no_limit(string? value, long? expected)
    {
        var result = Load(value);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(expected, result.Options!.BandwidthLimit);
    }

    [Theory]
    [InlineData("20MB")]
    [InlineData("1.5M")]
    [InlineData("-1")]
    [InlineData("20 M")]
    [InlineData("1T")]
    [InlineData("1023")]
    [InlineData("99999999999999999999")]
    public void A_bad_BWLIMIT_is_one_config_error_naming_the_key_the_value_and_what_is_allowed(string value)
    {
        var result = Load(value);

        var error = Assert.Single(result.Errors);
        Assert.Equal("BWLIMIT", error.Key);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("K, M or G (powers of 1024)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.ToString());
    }

    private ConfigResult<ProducerOptions> Load(string? bwlimit)
    {
        var conf = dir.Sub("prod.conf");
        File.WriteAllText(conf, SeedFiles.ProdConf);
        var passphrase = dir.Sub("passphrase");
        File.WriteAllText(passphrase, "secret\n");
        File.SetUnixFileMode(passphrase, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var env = new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = passphrase, ["BWLIMIT"] = bwlimit };
        return ConfigLoader.LoadProducer(conf, env, new Dictionary<string, string?>());
    }
}

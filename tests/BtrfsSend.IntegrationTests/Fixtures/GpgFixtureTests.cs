using System.Security.Cryptography;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Fixtures;

public sealed class GpgFixtureTests
{
    [RealFact("gpg", "gpgconf", NeedsRoot = false)]
    public async Task A_symmetric_gpg_round_trip_with_the_passphrase_file_restores_the_bytes()
    {
        using var gpg = new GpgFixture();
        var plain = RandomNumberGenerator.GetBytes(1024 * 1024 + 1);
        var cipher = new MemoryStream();
        var back = new MemoryStream();

        await Cli.Wrap("gpg").WithArguments(gpg.GpgWithPassphrase("--symmetric", "--cipher-algo", "AES256", "--compress-algo", "none").Skip(1))
            .WithStandardInputPipe(PipeSource.FromBytes(plain)).WithStandardOutputPipe(PipeTarget.ToStream(cipher)).ExecuteAsync();
        await Cli.Wrap("gpg").WithArguments(gpg.GpgWithPassphrase("--decrypt").Skip(1))
            .WithStandardInputPipe(PipeSource.FromBytes(cipher.ToArray())).WithStandardOutputPipe(PipeTarget.ToStream(back)).ExecuteAsync();

        Assert.NotEqual(plain, cipher.ToArray()[..plain.Length]);
        Assert.Equal(plain, back.ToArray());
    }

    [RealFact("gpg", "gpgconf", NeedsRoot = false)]
    public async Task A_generated_key_pair_exports_a_public_key_that_gpg_can_encrypt_to()
    {
        using var gpg = new GpgFixture();
        var fingerprint = await gpg.GenerateKeyPairAsync("ed25519");
        var cipher = new MemoryStream();

        await Cli.Wrap("gpg").WithArguments(gpg.Gpg("--trust-model", "always", "--encrypt", "--recipient", fingerprint).Skip(1))
            .WithStandardInputPipe(PipeSource.FromString("hello")).WithStandardOutputPipe(PipeTarget.ToStream(cipher)).ExecuteAsync();
        var plain = await Run.OutWithInputAsync(cipher.ToArray(), gpg.Gpg("--decrypt"));

        Assert.Equal(40, fingerprint.Length);
        Assert.True(File.Exists(gpg.PublicKeyArmoredFilePath));
        Assert.Equal("hello", plain);
    }

    [Fact]
    public void A_missing_tool_is_named_in_the_reason()
    {
        var reason = Prerequisites.Missing(needsRoot: false, ["definitely-not-a-tool-xyz"]);

        Assert.NotNull(reason);
        Assert.Contains("definitely-not-a-tool-xyz", reason, StringComparison.Ordinal);
        Assert.Null(Prerequisites.Missing(needsRoot: false, ["sh"]));
    }
}

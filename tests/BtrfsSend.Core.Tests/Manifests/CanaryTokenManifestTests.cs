using BtrfsSend.Core.Manifests;

namespace BtrfsSend.Core.Tests.Manifests;

public sealed class CanaryTokenManifestTests
{
    private const string Token = "0123456789abcdef0123456789abcdef";

    [Fact]
    public void A_canary_token_is_written_after_producer_version_and_reads_back()
    {
        var manifest = ManifestSamples.Full() with { CanaryToken = Token };

        var text = ManifestWriter.Render(manifest);
        var parsed = ManifestReader.Parse(text, "m");

        Assert.EndsWith($"producer_version=0.1.0\ncanary_token={Token}\n", text, StringComparison.Ordinal);
        Assert.True(parsed.IsValid, string.Join("\n", parsed.Errors));
        Assert.Equal(Token, parsed.Manifest!.CanaryToken);
        Assert.Equal(manifest, parsed.Manifest);
    }

    [Fact]
    public void Without_a_canary_no_key_is_written_and_the_token_reads_as_null()
    {
        var text = ManifestWriter.Render(ManifestSamples.Full());

        Assert.DoesNotContain("canary_token", text, StringComparison.Ordinal);
        Assert.Null(ManifestReader.Parse(text, "m").Manifest!.CanaryToken);
    }

    [Theory]
    [InlineData("0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("0123456789abcdef")]
    [InlineData("zz23456789abcdef0123456789abcdef")]
    public void A_malformed_canary_token_makes_the_manifest_invalid_naming_the_key(string bad)
    {
        var text = ManifestWriter.Render(ManifestSamples.Full()) + $"canary_token={bad}\n";

        var parsed = ManifestReader.Parse(text, "m");

        Assert.False(parsed.IsValid);
        Assert.Contains(parsed.Errors, e => e.Contains("canary_token", StringComparison.Ordinal) && e.Contains("32 lowercase hex", StringComparison.Ordinal));
    }
}

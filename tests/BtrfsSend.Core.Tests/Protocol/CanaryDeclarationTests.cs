using BtrfsSend.Core.Protocol;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class CanaryDeclarationTests
{
    private const string Token = "0123456789abcdef0123456789abcdef";
    private const string Uuid = "0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e";
    private const string Full = "receive-stream prod-srv/rootfs root-20240101T000000Z full";

    [Theory]
    [InlineData($"{Full} canary={Token}")]
    [InlineData($"{Full} uuid={Uuid} proto=2 compression=zstd version=0.1.0 canary={Token}")]
    [InlineData($"receive-stream a root-20240102T000000Z incremental root-20240101T000000Z uuid={Uuid} canary=ffffffffffffffffffffffffffffffff")]
    [InlineData($"receive a root-20240102T000000Z canary={Token}")]
    [InlineData($"receive a root-20240102T000000Z root-20240101T000000Z version=1 canary={Token}")]
    public void A_canary_token_is_accepted_last_and_renders_back_identically(string raw)
    {
        var parsed = CommandGrammar.Parse(raw);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(raw, parsed.Request.ToCommandLine());
        var declared = parsed.Request switch
        {
            ReceiveStreamRequest r => r.Declared,
            ReceiveRequest r => r.Declared,
            _ => throw new InvalidOperationException(),
        };
        Assert.Equal(raw[(raw.LastIndexOf('=') + 1)..], declared.CanaryToken);
    }

    [Theory]
    [InlineData("canary=", "exactly 32 lowercase hex")]
    [InlineData("canary=0123456789abcdef0123456789abcde", "exactly 32 lowercase hex")]
    [InlineData("canary=0123456789abcdef0123456789abcdef0", "exactly 32 lowercase hex")]
    [InlineData("canary=0123456789ABCDEF0123456789abcdef", "exactly 32 lowercase hex")]
    [InlineData("canary=0123456789abcdef0123456789abcdeg", "exactly 32 lowercase hex")]
    [InlineData("canary=../../../../etc/passwd0123456789ab", "exactly 32 lowercase hex")]
    [InlineData($"canary={Token} canary={Token}", "repeated or out of order")]
    [InlineData($"canary={Token} version=1", "repeated or out of order")]
    [InlineData($"canary={Token} uuid={Uuid}", "repeated or out of order")]
    [InlineData("canary", "unexpected token")]
    [InlineData($"Canary={Token}", "unexpected token")]
    public void A_malformed_or_misplaced_canary_is_refused_naming_the_rule(string tail, string why)
    {
        var parsed = CommandGrammar.Parse($"{Full} {tail}");

        Assert.False(parsed.IsValid);
        Assert.Contains(why, parsed.Error, StringComparison.Ordinal);
        Assert.Contains("canary=<32 lowercase hex>", parsed.Error, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property Only_exactly_32_lowercase_hex_digits_are_a_canary_token() =>
        Prop.ForAll(
            Gen.Elements("0123456789abcdefABCDEFgz-=/ ".ToCharArray()).ArrayOf().Select(c => new string(c)).ToArbitrary(),
            value =>
            {
                var expected = value.Length == 32 && value.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
                var parsed = CommandGrammar.Parse($"{Full} canary={value}");
                return parsed.IsValid == expected
                       && (!expected || (parsed.Request as ReceiveStreamRequest)?.Declared.CanaryToken == value);
            });

    [Property(MaxTest = 200)]
    public Property Any_hex_token_round_trips_through_the_command_line() =>
        Prop.ForAll(
            Gen.Elements("0123456789abcdef".ToCharArray()).ArrayOf(32).Select(c => new string(c)).ToArbitrary(),
            token =>
            {
                var request = new ReceiveStreamRequest(
                    Core.Naming.BackupSet.Parse("a/b"), Core.Naming.SnapshotName.Parse("root-20240101T000000Z"), false, null)
                {
                    Declared = new StreamDeclaration { CanaryToken = token },
                };
                var parsed = CommandGrammar.Parse(request.ToCommandLine());
                return parsed.IsValid && parsed.Request.Equals(request);
            });
}

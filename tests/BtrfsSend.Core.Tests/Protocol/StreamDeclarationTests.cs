using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Core.Tests.Protocol;

public sealed class StreamDeclarationTests
{
    private const string Uuid = "0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e";
    private const string ParentUuid = "1c9f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6f";

    [Fact]
    public void A_full_receive_stream_carries_the_producers_declarations_into_the_request()
    {
        var raw = $"receive-stream prod-srv/rootfs root-20240101T000000Z full uuid={Uuid} proto=2 compression=zstd version=0.1.0+abc";

        var parsed = CommandGrammar.Parse(raw);

        Assert.True(parsed.IsValid, parsed.Error);
        var request = Assert.IsType<ReceiveStreamRequest>(parsed.Request);
        Assert.Equal(Uuid, request.Declared.SnapshotUuid);
        Assert.Equal(2, request.Declared.SendProto);
        Assert.Equal(StreamCompression.Zstd, request.Declared.Compression);
        Assert.Equal("0.1.0+abc", request.Declared.ProducerVersion);
        Assert.Equal(raw, request.ToCommandLine());
    }

    [Fact]
    public void An_incremental_may_declare_its_parents_uuid_and_renders_back_identically()
    {
        var raw = $"receive-stream a root-20240102T000000Z incremental root-20240101T000000Z uuid={Uuid} parent-uuid={ParentUuid}";

        var request = Assert.IsType<ReceiveStreamRequest>(CommandGrammar.Parse(raw).Request);

        Assert.Equal(ParentUuid, request.Declared.ParentUuid);
        Assert.Equal(raw, request.ToCommandLine());
    }

    [Theory]
    [InlineData("receive a root-20240102T000000Z")]
    [InlineData("receive a root-20240102T000000Z root-20240101T000000Z")]
    [InlineData("receive a root-20240102T000000Z uuid=0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e")]
    [InlineData("receive a root-20240102T000000Z root-20240101T000000Z uuid=0b8f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6e parent-uuid=1c9f7c1e-2d3a-4b5c-9d8e-1f2a3b4c5d6f proto=2")]
    public void Receive_takes_an_optional_parent_then_optional_declarations(string raw)
    {
        var parsed = CommandGrammar.Parse(raw);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(raw, parsed.Request.ToCommandLine());
    }

    [Fact]
    public void Without_declarations_the_defaults_apply()
    {
        var request = Assert.IsType<ReceiveStreamRequest>(CommandGrammar.Parse("receive-stream a root-20240101T000000Z full").Request);

        Assert.Equal(StreamDeclaration.None, request.Declared);
        Assert.Equal(1, request.Declared.SendProto);
        Assert.Equal(StreamCompression.None, request.Declared.Compression);
        Assert.Null(request.Declared.SnapshotUuid);
    }
}

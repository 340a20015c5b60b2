using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using Snapshooter.Xunit;

namespace BtrfsSend.Core.Tests.Manifests;

public sealed class ManifestWriterTests
{
    [Fact]
    public void A_full_manifest_renders_in_the_documented_order() =>
        Snapshot.Match(ManifestWriter.Render(ManifestSamples.Full()).Split('\n'));

    [Fact]
    public void An_incremental_manifest_renders_its_parent() =>
        Snapshot.Match(ManifestWriter.Render(ManifestSamples.Incremental()).Split('\n'));

    [Fact]
    public void Unknown_keys_are_appended_in_their_order() =>
        Snapshot.Match(ManifestWriter.Render(ManifestSamples.Full() with
        {
            UnknownKeys = [new("zz_later", "2"), new("added_in_v2", "héllo wörld"), new("a", "")],
        }).Split('\n'));

    [Fact]
    public void The_full_sample_renders_byte_for_byte() =>
        Assert.Equal(ManifestSamples.FullText, ManifestWriter.Render(ManifestSamples.Full()));

    public static TheoryData<string, Manifest> Inconsistent => new()
    {
        { "a full stream has no parent", ManifestSamples.Full() with { Parent = SnapshotName.Parse("prod-srv-rootfs-20260101T000000Z") } },
        { "required when kind=incremental", ManifestSamples.Incremental() with { Parent = null } },
        { "not a SHA-256", ManifestSamples.Full() with { StreamSha256 = "ABC" } },
        { "not a byte count", ManifestSamples.Full() with { StreamBytes = -1 } },
        { "duplicate key", ManifestSamples.Full() with { UnknownKeys = [new("set", "x")] } },
        { "control characters", ManifestSamples.Full() with { UnknownKeys = [new("note", "a\nset=evil/set")] } },
        { "is not allowed", ManifestSamples.Full() with { UnknownKeys = [new("Bad-Key", "x")] } },
        { "client name", ManifestSamples.Full() with { Client = "root; rm -rf /" } },
        { "not a send stream version", ManifestSamples.Full() with { SendProto = 3 } },
        { "whole seconds", ManifestSamples.Full() with { ReceivedAtUtc = new DateTime(2026, 3, 4, 2, 7, 31, 5, DateTimeKind.Utc) } },
        { "whole seconds", ManifestSamples.Full() with { ReceivedAtUtc = new DateTime(2026, 3, 4, 2, 7, 31, DateTimeKind.Local) } },
    };

    [Theory]
    [MemberData(nameof(Inconsistent))]
    public void Render_refuses_a_manifest_that_would_not_read_back(string reason, Manifest manifest)
    {
        var e = Assert.Throws<ArgumentException>(() => ManifestWriter.Render(manifest));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }
}

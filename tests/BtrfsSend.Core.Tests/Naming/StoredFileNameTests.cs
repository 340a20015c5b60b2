using BtrfsSend.Core.Naming;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Naming;

public sealed class StoredFileNameTests
{
    private static readonly SnapshotName Snap = SnapshotName.Parse("prod-srv-rootfs-20260304T050506Z");

    [Fact]
    public void File_names_follow_the_layout()
    {
        Assert.Equal("prod-srv-rootfs-20260304T050506Z.full.btrfs.gpg", StoredFileName.StreamFileName(Snap, StreamKind.Full));
        Assert.Equal("prod-srv-rootfs-20260304T050506Z.incr.btrfs.gpg", StoredFileName.StreamFileName(Snap, StreamKind.Incremental));
        Assert.Equal("prod-srv-rootfs-20260304T050506Z.manifest", StoredFileName.ManifestFileName(Snap));
    }

    [Theory]
    [InlineData("prod-srv-rootfs-20260304T050506Z.full.btrfs.gpg", StreamKind.Full)]
    [InlineData("prod-srv-rootfs-20260304T050506Z.incr.btrfs.gpg", StreamKind.Incremental)]
    [InlineData("prod-srv-rootfs-20260304T050506Z.manifest", null)]
    public void Stored_names_parse_back(string fileName, StreamKind? kind)
    {
        var parsed = StoredFileName.TryParse(fileName);

        Assert.NotNull(parsed);
        Assert.Equal(Snap, parsed.Snapshot);
        Assert.Equal(kind, parsed.Kind);
        Assert.Equal(kind is null, parsed.IsManifest);
        Assert.Equal(fileName, parsed.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".prod-srv-rootfs-20260304T050506Z.full.btrfs.gpg")]
    [InlineData(".prod-srv-rootfs-20260304T050506Z.full.btrfs.gpg.tmp-1234")]
    [InlineData(".prod-srv-rootfs-20260304T050506Z.manifest")]
    [InlineData("prod-srv-rootfs-20260304T050506Z.full.btrfs.gpg.tmp")]
    [InlineData("prod-srv-rootfs-20260304T050506Z.btrfs.gpg")]
    [InlineData("prod-srv-rootfs-20260304T050506Z.full.btrfs")]
    [InlineData("prod-srv-rootfs-20260304T050506Z.FULL.btrfs.gpg")]
    [InlineData("prod-srv-rootfs-20260304T050506Z")]
    [InlineData("prod-srv-rootfs-20261304T050506Z.manifest")]
    [InlineData("../prod-srv-rootfs-20260304T050506Z.manifest")]
    [InlineData("x/prod-srv-rootfs-20260304T050506Z.manifest")]
    [InlineData(".full.btrfs.gpg")]
    [InlineData(".manifest")]
    [InlineData("prod-srv-rootfs-20260304T050506Z.manifest\n")]
    public void Anything_else_does_not_parse(string fileName) =>
        Assert.Null(StoredFileName.TryParse(fileName));

    [Property(MaxTest = 300)]
    public Property Every_generated_name_round_trips_through_its_file_name() =>
        Prop.ForAll(NameArbitraries.SnapshotParts(), Gen.Elements<StreamKind?>(StreamKind.Full, StreamKind.Incremental, null).ToArbitrary(), (parts, kind) =>
        {
            var snap = SnapshotName.Create(parts.Prefix, parts.Time);
            var name = new StoredFileName(snap, kind);
            return StoredFileName.TryParse(name.Value) == name;
        });

    [Property(MaxTest = 1000)]
    public Property A_name_starting_with_a_dot_never_parses() =>
        Prop.ForAll(NameArbitraries.HostileStrings(), value => StoredFileName.TryParse("." + value) is null);
}

using BtrfsSend.Core.Binding;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Tests.Naming;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Binding;

public sealed class StreamBindingTests
{
    private const string U1 = "aa2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    private const string U2 = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    private const string Incremental = "bsb1 k=i c=z v=1 u=" + U1 + " pu=" + U2 + " s=prod-srv/rootfs n=prod-srv-rootfs-20260305T020500Z p=prod-srv-rootfs-20260304T020500Z";
    private const string Full = "bsb1 k=f c=n v=2 u=" + U1 + " pu=- s=prod-srv/rootfs n=prod-srv-rootfs-20260304T020500Z p=-";

    private static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");
    private static readonly SnapshotName Snap = SnapshotName.Parse("prod-srv-rootfs-20260305T020500Z");
    private static readonly SnapshotName Parent = SnapshotName.Parse("prod-srv-rootfs-20260304T020500Z");

    [Fact]
    public void An_incremental_renders_as_documented_and_parses_back()
    {
        var binding = StreamBinding.Create(Set, Snap, Parent, U1, U2, 1, StreamCompression.Zstd);

        Assert.Equal(Incremental, binding.Render());
        Assert.Equal(binding, StreamBinding.Parse(Incremental).Value);
    }

    [Fact]
    public void A_full_parses_with_no_parent()
    {
        var binding = StreamBinding.Parse(Full).Value!;

        Assert.Equal(StreamKind.Full, binding.Kind);
        Assert.Null(binding.Parent);
        Assert.Null(binding.ParentUuid);
        Assert.Equal(2, binding.SendProto);
        Assert.Null(binding.Contradiction(Set, Parent, StreamKind.Full, null));
    }

    [Fact]
    public void Names_too_long_for_the_field_are_bound_by_their_digest_and_still_checked()
    {
        var set = BackupSet.Parse(string.Join('/', Enumerable.Repeat(new string('s', 64), 4)));
        var snapshot = SnapshotName.Create(new string('p', 100), new DateTimeOffset(2026, 3, 5, 2, 5, 0, TimeSpan.Zero));
        var parent = SnapshotName.Create(new string('p', 100), new DateTimeOffset(2026, 3, 4, 2, 5, 0, TimeSpan.Zero));

        var text = StreamBinding.Create(set, snapshot, parent, U1, U2, 1, StreamCompression.None).Render();
        var parsed = StreamBinding.Parse(text).Value!;

        Assert.True(text.Length <= 255, text);
        Assert.Contains(" h=", text, StringComparison.Ordinal);
        Assert.Null(parsed.Contradiction(set, snapshot, StreamKind.Incremental, parent));
        Assert.NotNull(parsed.Contradiction(Set, snapshot, StreamKind.Incremental, parent));
    }

    [Theory]
    [InlineData("other/set", "prod-srv-rootfs-20260305T020500Z", "prod-srv-rootfs-20260304T020500Z", "incremental", "bound to set prod-srv/rootfs, not other/set")]
    [InlineData("prod-srv/rootfs", "prod-srv-rootfs-20260306T020500Z", "prod-srv-rootfs-20260304T020500Z", "incremental", "bound to snapshot prod-srv-rootfs-20260305T020500Z, not prod-srv-rootfs-20260306T020500Z")]
    [InlineData("prod-srv/rootfs", "prod-srv-rootfs-20260305T020500Z", "prod-srv-rootfs-20260303T020500Z", "incremental", "bound to parent prod-srv-rootfs-20260304T020500Z, not prod-srv-rootfs-20260303T020500Z")]
    [InlineData("prod-srv/rootfs", "prod-srv-rootfs-20260305T020500Z", null, "full", "bound as an incremental, but the chain lists it as a full stream")]
    public void A_binding_contradicting_the_chain_names_the_field(string set, string snapshot, string? parent, string kind, string expected)
    {
        var binding = StreamBinding.Parse(Incremental).Value!;

        var why = binding.Contradiction(BackupSet.Parse(set), SnapshotName.Parse(snapshot), kind == "full" ? StreamKind.Full : StreamKind.Incremental, parent is null ? null : SnapshotName.Parse(parent));

        Assert.Contains(expected, why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("bsb2 k=f", "version 'bsb2' is not supported")]
    [InlineData("hello.txt", "does not start with 'bsb1 '")]
    [InlineData("bsb1  k=f c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-", "fields")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=- x=1", "fields")]
    [InlineData("bsb1 c=n k=f v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-", "field 1 is 'c=n'; expected k=")]
    [InlineData("bsb1 k=x c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-", "k='x'")]
    [InlineData("bsb1 k=f c=gz v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-", "c='gz'")]
    [InlineData("bsb1 k=f c=n v=3 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-", "v='3'")]
    [InlineData("bsb1 k=f c=n v=1 u=AA2B1C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D pu=- s=a n=a-20260304T020500Z p=-", "u='AA2B")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=" + U2 + " s=a n=a-20260304T020500Z p=-", "pu=")]
    [InlineData("bsb1 k=i c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=a-20260303T020500Z", "pu='-'")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- s=../etc n=a-20260304T020500Z p=-", "s:")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- s=a n=a-2026030 p=-", "n:")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=a-20260303T020500Z", "p='a-20260303T020500Z'; allowed: - for a full")]
    [InlineData("bsb1 k=i c=n v=1 u=" + U1 + " pu=" + U2 + " s=a n=a-20260304T020500Z p=a-20260305T020500Z", "is not older than")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- h=ABCDEF", "h='ABCDEF'")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-\n", "printable ASCII")]
    [InlineData("bsb1 k=f c=n v=1 u=" + U1 + " pu=- s=a n=a-20260304T020500Z p=-\u00e9", "printable ASCII")]
    public void Hostile_binding_texts_are_refused_with_one_line_naming_the_problem(string text, string expected)
    {
        var check = StreamBinding.Parse(text);

        Assert.Null(check.Value);
        Assert.Contains(expected, check.Error, StringComparison.Ordinal);
        Assert.StartsWith("stream binding ", check.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', check.Error!);
    }

    [Fact]
    public void A_text_over_255_bytes_is_refused()
    {
        var check = StreamBinding.Parse(Incremental + new string('x', 200));

        Assert.Contains("at most 255", check.Error, StringComparison.Ordinal);
    }

    [Property(MaxTest = 500)]
    public Property Generated_bindings_round_trip_and_fit_the_field() =>
        Prop.ForAll(NameArbitraries.BackupSets(), NameArbitraries.SnapshotParts(), (set, parts) =>
        {
            var snapshot = SnapshotName.Create(parts.Prefix, parts.Time);
            var parent = SnapshotName.Create(parts.Prefix, parts.Time.AddDays(-1));
            var binding = StreamBinding.Create(BackupSet.Parse(set), snapshot, parent, U1, U2, 1, StreamCompression.None);
            var text = binding.Render();
            var parsed = StreamBinding.Parse(text).Value;
            return text.Length <= 255 && parsed is not null && parsed.Render() == text
                && parsed.Contradiction(BackupSet.Parse(set), snapshot, StreamKind.Incremental, parent) is null;
        });

    [Property(MaxTest = 2000)]
    public Property Arbitrary_strings_are_refused_with_one_line_or_are_canonical() =>
        Prop.ForAll(NameArbitraries.HostileStrings(), value =>
        {
            var check = StreamBinding.Parse(value);
            return check.Value is null
                ? check.Error is { Length: > 0 } error && !error.Contains('\n', StringComparison.Ordinal)
                : check.Value.Render() == value;
        });

    [Property(MaxTest = 1000)]
    public Property Any_single_character_change_of_a_valid_text_is_refused_or_reads_differently() =>
        Prop.ForAll(Gen.Choose(0, Incremental.Length - 1).ToArbitrary(), Gen.Choose(0x20, 0x7e).ToArbitrary(), (at, c) =>
        {
            var changed = Incremental[..at] + (char)c + Incremental[(at + 1)..];
            var check = StreamBinding.Parse(changed);
            return changed == Incremental || check.Value is null || check.Value != StreamBinding.Parse(Incremental).Value;
        });
}

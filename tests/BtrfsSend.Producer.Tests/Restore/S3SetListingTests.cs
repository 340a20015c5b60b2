using BtrfsSend.Core.Errors;
using BtrfsSend.Producer.Restore;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Restore;

public sealed class S3SetListingTests
{
    private const string Prefix = "offsite/prod-srv/rootfs/";
    private const string Full = "prod-srv-rootfs-20260101T020000Z.full.btrfs.gpg";
    private const string Manifest = "prod-srv-rootfs-20260101T020000Z.manifest";

    [Fact]
    public void Stream_and_manifest_objects_are_recorded_and_foreign_or_nested_keys_are_ignored()
    {
        var listing = New();

        listing.Add(Prefix + Full, 1234);
        listing.Add(Prefix + Manifest, 500);
        listing.Add(Prefix + "README.txt", 10);
        listing.Add(Prefix + "nested/" + Full, 99);
        listing.Add(Prefix + ".tmp-" + Full, 99);
        listing.AddPage(false, null);

        Assert.Equal(1234, Assert.Single(listing.Streams).Value);
        var manifest = Assert.Single(listing.Manifests);
        Assert.Equal(Prefix + Manifest, manifest.Key);
        Assert.Equal("prod-srv-rootfs-20260101T020000Z", manifest.Snapshot.Value);
        Assert.Equal(5, listing.Count);
    }

    [Theory]
    [InlineData("", 1L, "without a key")]
    [InlineData("other/prod-srv/rootfs/" + Full, 1L, "outside the prefix asked for")]
    [InlineData(Prefix + Full, -1L, "the size -1")]
    [InlineData(Prefix + Full, null, "the size (none)")]
    [InlineData("offsite/prod-srv/rootfs\n/x", 1L, "'offsite/prod-srv/rootfs\\x0a/x'")]
    public void An_entry_the_layout_cannot_produce_is_refused_in_one_line(string key, long? bytes, string expected)
    {
        var ex = Assert.Throws<IntegrityException>(() => New().Add(key, bytes));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("the listing of s3://bucket/" + Prefix, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void A_key_listed_twice_is_refused()
    {
        var listing = New();
        listing.Add(Prefix + Full, 1);

        var ex = Assert.Throws<IntegrityException>(() => listing.Add(Prefix + Full, 1));

        Assert.Contains("twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_objects_than_any_set_holds_are_refused()
    {
        var listing = New();
        for (var i = 0; i < S3SetListing.MaxObjects; i++)
        {
            listing.Add(Prefix + "x" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), 1);
        }

        var ex = Assert.Throws<IntegrityException>(() => listing.Add(Prefix + Full, 1));

        Assert.Contains($"more than {S3SetListing.MaxObjects} objects", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_page_without_a_token_or_with_a_token_seen_before_is_refused()
    {
        Assert.Contains("no continuation token", Assert.Throws<IntegrityException>(() => New().AddPage(true, null)).Message, StringComparison.Ordinal);
        Assert.Contains("no continuation token", Assert.Throws<IntegrityException>(() => New().AddPage(true, "")).Message, StringComparison.Ordinal);

        var listing = New();
        listing.AddPage(true, "a");
        listing.AddPage(true, "b");
        Assert.Contains("repeats a continuation token", Assert.Throws<IntegrityException>(() => listing.AddPage(true, "a")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_listing_that_never_ends_is_refused_after_the_page_limit()
    {
        var listing = New();
        for (var i = 0; i < S3SetListing.MaxPages; i++)
        {
            listing.AddPage(true, "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var ex = Assert.Throws<IntegrityException>(() => listing.AddPage(true, "last"));

        Assert.Contains($"more than {S3SetListing.MaxPages} pages", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(65536L, false)]
    [InlineData(65537L, true)]
    [InlineData(long.MaxValue, true)]
    public void A_manifest_object_larger_than_any_manifest_is_not_read(long bytes, bool refused)
        => Assert.Equal(refused, S3SetListing.ManifestSizeProblem(bytes) is not null);

    [Property(MaxTest = 300)]
    public Property Any_listing_is_recorded_or_refused_in_one_line_never_an_exception_of_another_kind()
        => Prop.ForAll(
            Gen.Elements(Prefix, "offsite/", Full, Manifest, "/", "..", "\0", "\n", "x", "prod-srv-rootfs-2026", ".incr.btrfs.gpg")
                .ListOf().Select(parts => string.Concat(parts))
                .Zip(Gen.Elements<long?>(null, -1, 0, 1, long.MaxValue))
                .ListOf().ToArbitrary(),
            entries =>
            {
                var listing = New();
                try
                {
                    foreach (var (key, bytes) in entries)
                    {
                        listing.Add(key, bytes);
                    }

                    return listing.Streams.Keys.All(k => !k.Contains('/', StringComparison.Ordinal))
                        && listing.Manifests.All(m => m.Key.StartsWith(Prefix, StringComparison.Ordinal) && m.Bytes >= 0);
                }
                catch (IntegrityException ex)
                {
                    return !ex.Message.Contains('\n', StringComparison.Ordinal) && !ex.Message.Contains('\0', StringComparison.Ordinal);
                }
            });

    private static S3SetListing New() => new(Prefix, "s3://bucket/" + Prefix);
}

using System.Text;
using BtrfsSend.Core.Manifests;

namespace BtrfsSend.Core.Tests.Manifests;

public sealed class ManifestReaderTests
{
    private const string Src = "/b/prod-srv/rootfs/x.manifest";

    [Fact]
    public void The_sample_parses_into_the_expected_manifest()
    {
        var result = ManifestReader.Parse(ManifestSamples.FullText, Src);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(ManifestSamples.Full(), result.Manifest);
        Assert.Equal(DateTimeKind.Utc, result.Manifest!.ReceivedAtUtc.Kind);
    }

    [Fact]
    public void Unknown_keys_are_kept_in_order()
    {
        var result = ManifestReader.Parse(ManifestSamples.FullText + "zz=1\nfuture_key=some value\n", Src);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal([new("zz", "1"), new("future_key", "some value")], result.Manifest!.UnknownKeys);
    }

    [Fact]
    public void Keys_may_come_in_any_order()
    {
        var lines = ManifestSamples.FullText.TrimEnd('\n').Split('\n');
        var shuffled = lines[0] + "\n" + string.Join("\n", lines.Skip(1).Reverse()) + "\n";

        Assert.Equal(ManifestSamples.Full(), ManifestReader.Parse(shuffled, Src).Manifest);
    }

    [Fact]
    public void Every_error_is_reported_at_once_with_its_line()
    {
        var text = ManifestSamples.FullText
            .Replace("kind=full", "kind=differential", StringComparison.Ordinal)
            .Replace("stream_bytes=1234567890", "stream_bytes=-5", StringComparison.Ordinal)
            .Replace("client=prod-srv", "client=Prod", StringComparison.Ordinal);

        var result = ManifestReader.Parse(text, Src);

        Assert.False(result.IsValid);
        Assert.Null(result.Manifest);
        Assert.Contains(result.Errors, e => e.StartsWith(Src + ":4: kind:", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith(Src + ":6: stream_bytes:", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.StartsWith(Src + ":12: client:", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> Refusals()
    {
        string R(string from, string to) => ManifestSamples.FullText.Replace(from, to, StringComparison.Ordinal);
        return new TheoryData<string, string>
        {
            { "", "manifest is empty" },
            { "format=btrfs-send-manifest/2\nset=a\n", "unsupported format 'btrfs-send-manifest/2'" },
            { "set=prod-srv/rootfs\n", "allowed: exactly 'format=btrfs-send-manifest/1'" },
            { " format=btrfs-send-manifest/1\n", "allowed: exactly" },
            { "format=btrfs-send-manifest/1\n", "missing required key 'set'" },
            { ManifestSamples.FullText.TrimEnd('\n'), "last line has no newline (truncated?)" },
            { R("client=prod-srv\n", ""), "missing required key 'client'" },
            { R("send_proto=1\n", ""), "missing required key 'send_proto'" },
            { R("kind=full\n", "kind=full\nkind=full\n"), ":5: kind: duplicate key (first on line 4)" },
            { R("kind=full\n", "kind=full\nformat=btrfs-send-manifest/1\n"), "format: duplicate key" },
            { R("kind=full\n", "kind=full\n\n"), ":5: '' is not key=value" },
            { R("kind=full\n", "kind=full\njunk\n"), "'junk' is not key=value" },
            { R("kind=full\n", "kind=full\nKind=x\n"), "key 'Kind' is not allowed; allowed: [a-z0-9_]+" },
            { R("kind=full\n", "kind=full\n=x\n"), "key '' is not allowed" },
            { R("kind=full\n", "kind=full\nnote=a\tb\n"), "contains the character \\x09" },
            { R("kind=full\n", "kind=full\nnote=a\rb\n"), "contains the character \\x0d" },
            { R("kind=full\n", "kind=full\nnote=\u0085\n"), "contains the character \\x85" },
            { R("kind=full\n", "kind=full\nnote=" + new string('x', 4097) + "\n"), "4097 characters long" },
            { R("\n", "\r\n"), "\\x0d" },
            { R("kind=full", "kind=Full"), "'Full' is not a stream kind; allowed: full, incremental" },
            { R("kind=full", "kind=full\nparent=prod-srv-rootfs-20260101T000000Z"), "a full stream has no parent" },
            { R("kind=full", "kind=full\nparent_uuid=3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"), "parent_uuid only with kind=incremental" },
            { R("kind=full", "kind=incremental").Replace(".full.", ".incr.", StringComparison.Ordinal), "missing key 'parent'; required when kind=incremental" },
            { R("kind=full", "kind=incremental\nparent=prod-srv-rootfs-20260304T020500Z").Replace(".full.", ".incr.", StringComparison.Ordinal), "is not older than snapshot" },
            { R("kind=full", "kind=incremental\nparent=prod-srv-rootfs-20260401T000000Z").Replace(".full.", ".incr.", StringComparison.Ordinal), "is not older than snapshot" },
            { R("kind=full", "kind=incremental\nparent=bad"), "does not end in -yyyyMMddTHHmmssZ" },
            { R(".full.btrfs.gpg", ".incr.btrfs.gpg"), "stream_file: 'prod-srv-rootfs-20260304T020500Z.incr.btrfs.gpg' does not match snapshot and kind" },
            { R("stream_file=prod-srv-rootfs-20260304T020500Z.full.btrfs.gpg", "stream_file=../../etc/shadow"), "does not match snapshot and kind" },
            { R("set=prod-srv/rootfs", "set=../etc"), "set: backup set '../etc'" },
            { R("snapshot=prod-srv-rootfs-20260304T020500Z", "snapshot=prod-srv-rootfs-20261304T020500Z"), "not a valid UTC time" },
            { R("stream_bytes=1234567890", "stream_bytes=-1"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes=01"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes=+1"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes=1e9"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes= 1"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes=99999999999999999999"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes=9223372036854775808"), "not a byte count" },
            { R("stream_bytes=1234567890", "stream_bytes="), "not a byte count" },
            { R(ManifestSamples.Sha, ManifestSamples.Sha.ToUpperInvariant()), "not a SHA-256; allowed: 64 lowercase hex digits" },
            { R(ManifestSamples.Sha, ManifestSamples.Sha[..63]), "not a SHA-256" },
            { R(ManifestSamples.Sha, ManifestSamples.Sha + "0"), "not a SHA-256" },
            { R(ManifestSamples.Sha, ManifestSamples.Sha[..63] + "g"), "not a SHA-256" },
            { R("encryption=openpgp-symmetric", "encryption=aes"), "allowed: openpgp-symmetric, openpgp-pubkey, none" },
            { R("compression=none", "compression=gzip"), "allowed: none, zstd" },
            { R("send_proto=1", "send_proto=3"), "allowed: 1, 2" },
            { R("received_at=2026-03-04T02:07:31Z", "received_at=2026-03-04T02:07:31+00:00"), "not a UTC time" },
            { R("received_at=2026-03-04T02:07:31Z", "received_at=2026-03-04 02:07:31Z"), "not a UTC time" },
            { R("received_at=2026-03-04T02:07:31Z", "received_at=2026-13-04T02:07:31Z"), "not a UTC time" },
            { R("received_at=2026-03-04T02:07:31Z", "received_at=2026-03-04T02:07:31.5Z"), "not a UTC time" },
            { R("received_at=2026-03-04T02:07:31Z", "received_at=20260304T020731Z"), "not a UTC time" },
            { R("client=prod-srv", "client=prod srv"), "client name 'prod srv' contains a space" },
            { R("client=prod-srv", "client="), "client name is empty" },
            { R("snapshot_uuid=3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "snapshot_uuid=3F2B1C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D"), "not a UUID" },
            { R("snapshot_uuid=3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "snapshot_uuid=-"), "not a UUID" },
        };
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Invalid_manifests_are_refused_with_a_clear_message(string text, string expected)
    {
        var result = ManifestReader.Parse(text, Src);

        Assert.False(result.IsValid);
        Assert.Null(result.Manifest);
        Assert.Contains(result.Errors, e => e.Contains(expected, StringComparison.Ordinal) && e.StartsWith(Src, StringComparison.Ordinal));
        Assert.All(result.Errors, e => Assert.DoesNotContain('\n', e));
    }

    [Fact]
    public void A_lone_surrogate_is_refused()
    {
        var result = ManifestReader.Parse(ManifestSamples.FullText + "note=\ud800\n", Src);

        Assert.Contains(result.Errors, e => e.Contains("contains the character \\u{d800}", StringComparison.Ordinal));
    }

    [Fact]
    public void Bytes_that_are_not_UTF8_are_refused()
    {
        var bytes = Encoding.UTF8.GetBytes(ManifestSamples.FullText + "note=").Concat(new byte[] { 0xC3, 0x28, (byte)'\n' }).ToArray();

        var result = ManifestReader.Parse(bytes, Src);

        Assert.Equal([$"{Src}: manifest is not valid UTF-8"], result.Errors);
    }

    [Fact]
    public void A_byte_order_mark_is_refused()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(ManifestSamples.FullText)).ToArray();

        Assert.Contains("byte order mark", ManifestReader.Parse(bytes, Src).Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_UTF8_bytes_parse_like_the_text() =>
        Assert.Equal(ManifestSamples.Full(), ManifestReader.Parse(Encoding.UTF8.GetBytes(ManifestSamples.FullText), Src).Manifest);

    [Fact]
    public void An_oversized_manifest_is_refused_before_parsing() =>
        Assert.Contains("at most 65536", ManifestReader.Parse(new byte[70_000], Src).Errors[0], StringComparison.Ordinal);
}

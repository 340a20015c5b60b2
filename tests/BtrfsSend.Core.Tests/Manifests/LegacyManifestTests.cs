using System.Text;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Core.Tests.Manifests;

/// <summary>The tolerant reader of the shell scripts' manifests, and the keys adopt adds to ours.</summary>
public sealed class LegacyManifestTests
{
    private const string Src = "/b/prod-srv/rootfs/x.manifest";

    [Fact]
    public void A_names_only_manifest_of_the_scripts_yields_snapshot_and_parent()
    {
        var m = LegacyManifestReader.Parse("snapshot=prod-srv-rootfs-20260305T020500Z\nparent=prod-srv-rootfs-20260304T020500Z\n"u8);

        Assert.Equal(("prod-srv-rootfs-20260305T020500Z", "snapshot"), (m.Snapshot?.Value, m.SnapshotKey));
        Assert.Equal(("prod-srv-rootfs-20260304T020500Z", "parent"), (m.Parent?.Value, m.ParentKey));
        Assert.Null(m.Kind);
        Assert.Empty(m.Notes);
    }

    [Theory]
    [InlineData("PARENT=none\n")]
    [InlineData("parent=\n")]
    [InlineData("parent = -\n")]
    public void An_explicitly_empty_parent_means_no_parent(string text)
    {
        var m = LegacyManifestReader.Parse(Encoding.UTF8.GetBytes(text));

        Assert.True(m.SaysNoParent);
        Assert.Null(m.Parent);
        Assert.Empty(m.Notes);
    }

    [Fact]
    public void Contradicting_lines_keep_the_first_and_say_so()
    {
        var m = LegacyManifestReader.Parse("name=a-20260101T000000Z\nsnapshot=b-20260101T000000Z\n"u8);

        Assert.Equal("a-20260101T000000Z", m.Snapshot?.Value);
        Assert.Contains(m.Notes, n => n.Contains("line 2: snapshot= says 'b-20260101T000000Z' but line 1 (name=) said 'a-20260101T000000Z'; the first is used", StringComparison.Ordinal));
    }

    [Fact]
    public void Notes_show_hostile_bytes_escaped_and_cut()
    {
        var m = LegacyManifestReader.Parse(Encoding.UTF8.GetBytes($"parent=\u202e{new string('x', 500)}\n"));

        Assert.Null(m.Parent);
        var note = Assert.Single(m.Notes);
        Assert.DoesNotContain("\u202e", note, StringComparison.Ordinal);
        Assert.True(note.Length < 700, note);
    }

    [Fact]
    public void The_keys_adopt_writes_read_back_and_are_checked_strictly()
    {
        var adopted = ManifestSamples.Incremental() with { Origin = "legacy", ParentInferred = true, LegacyManifest = ManifestSamples.Incremental().Snapshot.Value + ".scripts-manifest" };

        var text = ManifestWriter.Render(adopted);
        var back = ManifestReader.Parse(text, Src);

        Assert.True(back.IsValid, string.Join("\n", back.Errors));
        Assert.Equal(adopted, back.Manifest);
        Assert.EndsWith($"origin=legacy\nparent_inferred=yes\nlegacy_manifest={adopted.Snapshot}.scripts-manifest\n", text, StringComparison.Ordinal);
        Assert.Empty(back.Manifest!.UnknownKeys);
    }

    [Theory]
    [InlineData("parent_inferred=maybe\n", "parent_inferred: 'maybe' is not allowed; allowed: yes")]
    [InlineData("origin=Legacy Import\n", "origin: 'Legacy Import' is not an origin")]
    [InlineData("legacy_manifest=../../etc/passwd\n", "legacy_manifest: '../../etc/passwd' does not match the snapshot")]
    public void Bad_values_of_the_adopt_keys_are_refused(string line, string fragment)
    {
        var result = ManifestReader.Parse(ManifestSamples.FullText + line, Src);

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Contains(fragment, StringComparison.Ordinal));
    }

    [Fact]
    public void Parent_inferred_on_a_full_stream_is_refused()
    {
        var result = ManifestReader.Parse(ManifestSamples.FullText + "parent_inferred=yes\n", Src);

        Assert.Contains(result.Errors, e => e.Contains("parent_inferred only with kind=incremental", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("adopt --set prod-srv/rootfs")]
    [InlineData("adopt prod-srv/rootfs")]
    [InlineData("adopt")]
    public void Adopt_is_a_local_admin_verb_that_the_serve_grammar_refuses(string raw)
    {
        var result = CommandGrammar.Parse(raw);

        Assert.False(result.IsValid);
        Assert.Equal(ErrorCodes.BadCommand, result.ErrorCode);
    }

    [Fact]
    public void The_kept_scripts_manifest_is_not_a_stored_file_name()
        => Assert.Null(StoredFileName.TryParse("prod-srv-rootfs-20260305T020500Z.scripts-manifest"));
}

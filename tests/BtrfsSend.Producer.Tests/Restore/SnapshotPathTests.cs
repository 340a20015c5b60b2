using BtrfsSend.Core.Errors;
using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Tests.Restore;

/// <summary>extract's PATH: the grammar, and resolution inside a snapshot tree that holds hostile symbolic links.</summary>
public sealed class SnapshotPathTests : IDisposable
{
    private readonly string _outside = Directory.CreateTempSubdirectory("snappath-out-").FullName;
    private readonly string _root = Directory.CreateTempSubdirectory("snappath-").FullName;

    public SnapshotPathTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        File.WriteAllText(Path.Combine(_root, "etc/hostname"), "inside\n");
        Directory.CreateDirectory(Path.Combine(_root, "var/log"));
        File.WriteAllText(Path.Combine(_root, "var/log/app.log"), "log\n");
        File.WriteAllText(Path.Combine(_outside, "secret"), "outside\n");
        File.CreateSymbolicLink(Path.Combine(_root, "abs-etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_root, "var/up"), "../..");
        File.CreateSymbolicLink(Path.Combine(_root, "var/rel-etc"), "../etc");
        File.CreateSymbolicLink(Path.Combine(_root, "out"), _outside);
        File.CreateSymbolicLink(Path.Combine(_root, "loop"), "loop");
        File.CreateSymbolicLink(Path.Combine(_root, "var/link"), "../etc/hostname");
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    [Theory]
    [InlineData("etc/hostname", "etc/hostname")]
    [InlineData("/etc/hostname", "etc/hostname")]
    [InlineData("./etc//hostname/", "etc/hostname")]
    [InlineData("/", "/")]
    [InlineData(".", "/")]
    public void A_path_absolute_or_relative_to_the_snapshot_root_is_accepted_and_normalised(string text, string expected)
        => Assert.Equal(expected, SnapshotPath.Parse(text).Text);

    [Theory]
    [InlineData("../etc/passwd", "has a '..' segment")]
    [InlineData("/etc/../../x", "has a '..' segment")]
    [InlineData("var/..", "has a '..' segment")]
    [InlineData("", "is empty")]
    [InlineData("etc/host\nname", "contains a control character")]
    public void A_path_with_dotdot_a_control_character_or_nothing_is_refused_naming_what_is_allowed(string text, string why)
    {
        var error = SnapshotPath.Check(text).Error;

        Assert.NotNull(error);
        Assert.Contains(why, error, StringComparison.Ordinal);
        Assert.Contains("allowed: a path inside the snapshot", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void A_path_longer_than_PATH_MAX_is_refused()
        => Assert.Contains("longer than 4095 bytes", SnapshotPath.Check(new string('a', 4096)).Error, StringComparison.Ordinal);

    [Fact]
    public void A_plain_file_resolves_to_itself_in_the_snapshot()
        => Assert.Equal(Path.Combine(_root, "etc/hostname"), SnapshotPath.Parse("/etc/hostname").Resolve(_root, "the snapshot"));

    [Fact]
    public void An_absolute_symlink_on_the_way_is_followed_from_the_snapshot_root_not_the_host_root()
        => Assert.Equal(Path.Combine(_root, "etc/hostname"), SnapshotPath.Parse("abs-etc/hostname").Resolve(_root, "the snapshot"));

    [Fact]
    public void An_absolute_symlink_to_a_host_directory_never_reaches_the_host_file()
    {
        // /etc/passwd exists on the host, not in the snapshot.
        var ex = Assert.Throws<RefusedException>(() => SnapshotPath.Parse("abs-etc/passwd").Resolve(_root, "the snapshot"));

        Assert.Equal("abs-etc/passwd is not in the snapshot (no such file or directory: etc/passwd); nothing was copied", ex.Message);
        Assert.Equal(ExitCode.Refused, ex.ExitCode);
    }

    [Fact]
    public void A_relative_symlink_inside_the_snapshot_is_followed()
        => Assert.Equal(Path.Combine(_root, "etc/hostname"), SnapshotPath.Parse("var/rel-etc/hostname").Resolve(_root, "the snapshot"));

    [Fact]
    public void A_symlink_whose_dotdot_climbs_above_the_snapshot_root_is_refused()
    {
        var ex = Assert.Throws<RefusedException>(() => SnapshotPath.Parse("var/up/etc/hostname").Resolve(_root, "the snapshot"));

        Assert.Equal("var/up/etc/hostname leaves the snapshot: a symbolic link on the way climbs above the snapshot's root with '..'; refused, nothing was copied", ex.Message);
    }

    [Fact]
    public void An_absolute_symlink_to_a_directory_outside_is_resolved_inside_and_does_not_find_the_outside_file()
    {
        var ex = Assert.Throws<RefusedException>(() => SnapshotPath.Parse("out/secret").Resolve(_root, "the snapshot"));

        Assert.StartsWith("out/secret is not in the snapshot", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_symlink_loop_is_refused_after_40_links()
        => Assert.Contains("more than 40 symbolic links", Assert.Throws<RefusedException>(() => SnapshotPath.Parse("loop/x").Resolve(_root, "the snapshot")).Message, StringComparison.Ordinal);

    [Fact]
    public void The_last_name_is_not_followed_so_a_symlink_is_copied_as_a_symlink()
    {
        Assert.Equal(Path.Combine(_root, "var/link"), SnapshotPath.Parse("var/link").Resolve(_root, "the snapshot"));
        Assert.Equal(Path.Combine(_root, "abs-etc"), SnapshotPath.Parse("abs-etc").Resolve(_root, "the snapshot"));
    }

    [Fact]
    public void A_missing_name_or_a_file_used_as_a_directory_is_refused_as_not_in_the_snapshot()
    {
        Assert.Equal("etc/nope is not in the snapshot; nothing was copied",
            Assert.Throws<RefusedException>(() => SnapshotPath.Parse("etc/nope").Resolve(_root, "the snapshot")).Message);
        Assert.Equal("etc/hostname/x is not in the snapshot (not a directory: etc/hostname); nothing was copied",
            Assert.Throws<RefusedException>(() => SnapshotPath.Parse("etc/hostname/x").Resolve(_root, "the snapshot")).Message);
    }

    [Fact]
    public void The_root_resolves_to_the_snapshot_itself()
        => Assert.Equal(_root, SnapshotPath.Parse("/").Resolve(_root, "the snapshot"));
}

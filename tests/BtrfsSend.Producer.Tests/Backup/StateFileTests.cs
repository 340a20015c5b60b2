using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class StateFileTests
{
    [Fact]
    public void A_missing_state_file_means_no_previous_snapshot()
    {
        using var dir = new TempDir("state");

        Assert.Null(new StateFile(dir.Sub("none", "last-sent")).Read());
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("  \n\n")]
    public void An_empty_state_file_means_no_previous_snapshot(string content)
    {
        using var dir = new TempDir("state");
        File.WriteAllText(dir.Sub("last-sent"), content);

        Assert.Null(new StateFile(dir.Sub("last-sent")).Read());
    }

    [Fact]
    public void Write_creates_the_directory_and_a_0600_file_holding_the_name_and_a_newline_as_the_seed_did()
    {
        using var dir = new TempDir("state");
        var path = dir.Sub("var", "lib", "last-sent");
        var name = SnapshotName.Parse("prod-srv-rootfs-20260301T120000Z");

        new StateFile(path).Write(name);

        Assert.Equal("prod-srv-rootfs-20260301T120000Z\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(name, new StateFile(path).Read());
    }

    [Fact]
    public void Write_replaces_the_previous_name_and_leaves_no_temporary_file_behind()
    {
        using var dir = new TempDir("state");
        var path = dir.Sub("last-sent");
        var state = new StateFile(path);

        state.Write(SnapshotName.Parse("p-20260301T120000Z"));
        state.Write(SnapshotName.Parse("p-20260302T120000Z"));

        Assert.Equal("p-20260302T120000Z", state.Read()!.Value);
        Assert.Equal(["last-sent"], Directory.GetFileSystemEntries(dir.DirPath).Select(Path.GetFileName));
    }

    [Trait("Category", "Fault")]
    [Theory]
    [InlineData("not a snapshot")]
    [InlineData("prod-srv-rootfs-2026")]
    [InlineData("../../etc/passwd")]
    [InlineData("p-20260301T120000Z\u001b[31m")]
    public void A_state_file_holding_garbage_is_a_config_error_that_says_how_to_recover_not_a_silent_full(string content)
    {
        using var dir = new TempDir("state");
        File.WriteAllText(dir.Sub("last-sent"), content);

        var thrown = Assert.Throws<ConfigException>(() => new StateFile(dir.Sub("last-sent")).Read());

        Assert.Equal(ExitCode.Config, thrown.ExitCode);
        Assert.Contains(dir.Sub("last-sent"), thrown.Message, StringComparison.Ordinal);
        Assert.Contains("delete it", thrown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(thrown.Message, char.IsControl);
    }

    [Property(MaxTest = 100)]
    public Property Any_snapshot_name_written_reads_back_equal() =>
        Prop.ForAll(
            (from prefix in Gen.Elements("p", "prod-srv-rootfs", "host.example_1", "A9")
             from seconds in Gen.Choose(0, int.MaxValue)
             select SnapshotName.Create(prefix, DateTimeOffset.UnixEpoch.AddSeconds(seconds))).ToArbitrary(),
            name =>
            {
                using var dir = new TempDir("state");
                var state = new StateFile(dir.Sub("last-sent"));
                state.Write(name);
                return state.Read() == name;
            });
}

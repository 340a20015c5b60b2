using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class CanaryFileTests : IDisposable
{
    private static readonly SnapshotName Snapshot = SnapshotName.Parse("prod-srv-rootfs-20261123T020500Z");
    private readonly TempDir dir = new("canary");

    public void Dispose() => dir.Dispose();

    [Fact]
    public void The_canary_holds_header_snapshot_and_a_fresh_token_with_mode_0600()
    {
        var canary = new CanaryFile(dir.DirPath, ".btrfs-send-canary");

        var first = canary.Write(Snapshot);
        var second = canary.Write(Snapshot);

        Assert.Matches("^[0-9a-f]{32}$", first);
        Assert.NotEqual(first, second);
        Assert.Equal($"btrfs-send-backup canary\nsnapshot={Snapshot}\ntoken={second}\n", File.ReadAllText(canary.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(canary.FilePath));
        Assert.Equal([".btrfs-send-canary"], Directory.GetFileSystemEntries(dir.DirPath).Select(Path.GetFileName));
    }

    [Fact]
    public void A_symlink_at_the_canary_path_is_refused_and_its_target_untouched()
    {
        var victim = dir.Sub("victim");
        File.WriteAllText(victim, "precious\n");
        File.CreateSymbolicLink(dir.Sub("canary"), victim);

        var ex = Assert.Throws<RefusedException>(() => new CanaryFile(dir.DirPath, "canary").Write(Snapshot));

        Assert.Contains("is a symbolic link", ex.Message, StringComparison.Ordinal);
        Assert.Equal("precious\n", File.ReadAllText(victim));
        Assert.NotNull(new FileInfo(dir.Sub("canary")).LinkTarget);
    }

    [Fact]
    public void A_symlinked_directory_on_the_way_is_refused()
    {
        var outside = dir.Sub("outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(dir.Sub("src"));
        Directory.CreateSymbolicLink(dir.Sub("src", "etc"), outside);

        var ex = Assert.Throws<RefusedException>(() => new CanaryFile(dir.Sub("src"), "etc/canary").Write(Snapshot));

        Assert.Contains("a symbolic link", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(outside));
    }

    [Fact]
    public void A_directory_at_the_canary_path_is_refused()
    {
        Directory.CreateDirectory(dir.Sub("canary"));

        var ex = Assert.Throws<RefusedException>(() => new CanaryFile(dir.DirPath, "canary").Write(Snapshot));

        Assert.Contains("is a directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_restored_canary_never_follows_a_symlink()
    {
        var secret = dir.Sub("secret");
        File.WriteAllText(secret, CanaryFile.Content(Snapshot, "0123456789abcdef0123456789abcdef"));
        File.CreateSymbolicLink(dir.Sub("canary"), secret);

        var (text, problem) = CanaryFile.TryRead(dir.DirPath, "canary");

        Assert.Null(text);
        Assert.Contains("symbolic link", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_restored_canary_says_so()
    {
        var (text, problem) = CanaryFile.TryRead(dir.DirPath, "a/canary");

        Assert.Null(text);
        Assert.Contains("missing", problem, StringComparison.Ordinal);
    }

    [Property(MaxTest = 100)]
    public Property Content_parses_back_to_its_snapshot_and_token() =>
        Prop.ForAll(Gen.Elements("0123456789abcdef".ToCharArray()).ArrayOf(32).Select(c => new string(c)).ToArbitrary(), token =>
            CanaryFile.TryParse(CanaryFile.Content(Snapshot, token)) == (Snapshot.Value, token));

    [Theory]
    [InlineData("")]
    [InlineData("btrfs-send-backup canary\nsnapshot=x\n")]
    [InlineData("btrfs-send-backup canary\nsnapshot=x\ntoken=y")]
    [InlineData("something else\nsnapshot=x\ntoken=y\n")]
    [InlineData("btrfs-send-backup canary\ntoken=y\nsnapshot=x\n")]
    public void Anything_else_is_not_a_canary(string text) => Assert.Null(CanaryFile.TryParse(text));
}

using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Producer.Tests.Backup;

public sealed class LastStreamSizesTests
{
    [Fact]
    public void Each_kind_keeps_its_own_last_size_and_a_new_one_replaces_only_its_kind()
    {
        using var dir = new TempDir("sizes");
        var sizes = new LastStreamSizes(dir.Sub("last-sent.sizes"));

        sizes.Write(isIncremental: false, 5_000_000);
        sizes.Write(isIncremental: true, 300);
        sizes.Write(isIncremental: true, 700);

        Assert.Equal(5_000_000, sizes.Read(isIncremental: false));
        Assert.Equal(700, sizes.Read(isIncremental: true));
        Assert.Equal("full 5000000\nincremental 700\n", File.ReadAllText(sizes.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(sizes.FilePath));
    }

    [Fact]
    public void TryWrite_records_the_size_like_Write_and_logs_nothing()
    {
        using var dir = new TempDir("sizes");
        var sizes = new LastStreamSizes(dir.Sub("last-sent.sizes"));
        var log = new LogMessages();

        sizes.TryWrite(isIncremental: true, 4242, log.Logger);

        Assert.Equal(4242, sizes.Read(isIncremental: true));
        Assert.Empty(log.Lines);
    }

    [Fact]
    public void TryWrite_that_cannot_write_warns_that_the_next_run_has_no_estimate_and_does_not_throw()
    {
        using var dir = new TempDir("sizes");
        var sizes = new LastStreamSizes(dir.Sub("missing-dir/last-sent.sizes"));
        var log = new LogMessages();

        sizes.TryWrite(isIncremental: false, 9, log.Logger);

        var line = Assert.Single(log.Lines);
        Assert.StartsWith($"could not record the stream's size in \"{sizes.FilePath}\" (", line, StringComparison.Ordinal);
        Assert.EndsWith("); the next run's progress has no ETA estimate", line, StringComparison.Ordinal);
        Assert.False(File.Exists(sizes.FilePath));
    }

    [Fact]
    public void The_file_sits_beside_STATE_FILE()
    {
        Assert.Equal("/var/lib/btrfs-send-backup/last-sent.sizes", LastStreamSizes.Of(new StateFile("/var/lib/btrfs-send-backup/last-sent")).FilePath);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("full\n")]
    [InlineData("full -5\n")]
    [InlineData("full 0\n")]
    [InlineData("full 007\n")]
    [InlineData("full 99999999999999999999999\n")]
    [InlineData("FULL 5\n")]
    [InlineData("full  5\n")]
    [InlineData("full 5 6\n")]
    [InlineData("\0\u001b[2J")]
    public void A_missing_or_unreadable_record_is_no_estimate_never_an_error(string? content)
    {
        using var dir = new TempDir("sizes");
        var sizes = new LastStreamSizes(dir.Sub("last-sent.sizes"));
        if (content is not null)
        {
            File.WriteAllText(sizes.FilePath, content);
        }

        Assert.Null(sizes.Read(isIncremental: false));
        Assert.Null(sizes.Read(isIncremental: true));
    }

    [Fact]
    public void A_directory_in_its_place_is_no_estimate()
    {
        using var dir = new TempDir("sizes");
        Directory.CreateDirectory(dir.Sub("last-sent.sizes"));

        Assert.Null(new LastStreamSizes(dir.Sub("last-sent.sizes")).Read(isIncremental: false));
    }

    [Fact]
    public void A_bad_line_does_not_hide_a_good_one_and_is_dropped_on_the_next_write()
    {
        using var dir = new TempDir("sizes");
        var sizes = new LastStreamSizes(dir.Sub("last-sent.sizes"));
        File.WriteAllText(sizes.FilePath, "garbage here\nincremental 42\n");

        Assert.Equal(42, sizes.Read(isIncremental: true));
        sizes.Write(isIncremental: false, 9);
        Assert.Equal("full 9\nincremental 42\n", File.ReadAllText(sizes.FilePath));
    }
}

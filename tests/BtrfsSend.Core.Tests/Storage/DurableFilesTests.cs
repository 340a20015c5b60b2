using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Storage;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Storage;

public sealed class DurableFilesTests : IDisposable
{
    private readonly TempDir _dir = new("durable");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WriteNew_commits_the_content_as_a_read_only_0400_file_and_leaves_no_temp()
    {
        var path = _dir.Sub("a.manifest");

        DurableFiles.WriteNew(path, "format=x\n"u8);

        Assert.Equal("format=x\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(_dir.DirPath));
    }

    [RealFact("stat")]
    public async Task WriteNew_as_root_makes_the_file_owned_by_root()
    {
        var path = _dir.Sub("owned");

        DurableFiles.WriteNew(path, "x"u8);

        Assert.Equal("0:0 400", (await Run.OutAsync("stat", "-c", "%u:%g %a", path)).Trim());
    }

    [Fact]
    public void WriteNew_refuses_to_replace_an_existing_file_and_leaves_it_untouched()
    {
        var path = _dir.Sub("b.full.btrfs.gpg");
        DurableFiles.WriteNew(path, "original"u8);

        var refused = Assert.Throws<RefusedException>(() => DurableFiles.WriteNew(path, "attacker"u8));

        Assert.Equal("exists", refused.Code);
        Assert.Equal("original", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFileSystemEntries(_dir.DirPath));
    }

    [Fact]
    public void Commit_moves_a_written_temp_file_into_place()
    {
        var final = _dir.Sub("c");
        var temp = DurableFiles.TempPathFor(_dir.DirPath, "c");
        using (var stream = DurableFiles.CreateTemp(temp))
        {
            stream.Write(Encoding.ASCII.GetBytes("payload"));
        }

        DurableFiles.Commit(temp, final);

        Assert.False(File.Exists(temp));
        Assert.Equal("payload", File.ReadAllText(final));
    }

    [Fact]
    public void CreateTemp_never_opens_an_existing_file()
    {
        var temp = DurableFiles.TempPathFor(_dir.DirPath, "d");
        File.WriteAllText(temp, "planted");

        Assert.Throws<IOException>(() => DurableFiles.CreateTemp(temp).Dispose());
        Assert.Equal("planted", File.ReadAllText(temp));
    }

    [Fact]
    public void Replace_swaps_the_content_atomically_with_the_requested_mode()
    {
        var path = _dir.Sub("state");
        DurableFiles.Replace(path, "one\n"u8, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        DurableFiles.Replace(path, "two\n"u8, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Equal("two\n", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Single(Directory.GetFileSystemEntries(_dir.DirPath));
    }

    [Fact]
    public void DeleteStaleTemps_removes_only_temp_files()
    {
        var keep = _dir.Sub("x.manifest");
        File.WriteAllText(keep, "k");
        File.WriteAllText(DurableFiles.TempPathFor(_dir.DirPath, "x.full.btrfs.gpg"), "partial");

        var deleted = DurableFiles.DeleteStaleTemps(_dir.DirPath);

        Assert.Single(deleted);
        Assert.Equal([keep], Directory.GetFileSystemEntries(_dir.DirPath));
    }

    [Fact]
    public void FreeSpace_reports_a_positive_number_of_bytes_and_fails_clearly_for_a_missing_path()
    {
        Assert.True(FreeSpace.AvailableBytes(_dir.DirPath) > 0);
        var error = Assert.Throws<StorageException>(() => FreeSpace.AvailableBytes(_dir.Sub("missing")));
        Assert.Contains("missing", error.Message, StringComparison.Ordinal);
    }
}

using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionSetDirectoryTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [RealFact("stat")]
    public async Task Every_directory_created_for_a_nested_set_is_0750_root_intermediate_ones_included()
    {
        var result = await _h.ServeAsync($"receive-stream web/a/b/c {Name(1)} full", Framing.Frame([0x8C, 1, 2]));

        Assert.Equal(0, result.ExitCode);
        foreach (var relative in new[] { "web", "web/a", "web/a/b", "web/a/b/c" })
        {
            Assert.Equal("0:0 750", Stat(Path.Combine(_h.RootDirPath, relative)));
        }
    }

    [Fact]
    public async Task A_set_whose_path_goes_through_a_symlink_is_refused_for_upload_and_nothing_is_written_there()
    {
        var elsewhere = Path.Combine(_h.DirPath, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        Directory.CreateDirectory(Path.Combine(_h.RootDirPath, "web"));
        File.CreateSymbolicLink(Path.Combine(_h.RootDirPath, "web", "a"), elsewhere);

        var result = await _h.ServeAsync($"receive-stream web/a/b {Name(1)} full", Framing.Frame([0x8C, 1, 2]));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.Forbidden} backup set 'web/a/b' is not usable on this receiver", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere, "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("list web/a")]
    [InlineData("get web/a root-20240310T110000Z")]
    public async Task A_set_that_is_a_symlink_is_neither_listed_nor_read(string command)
    {
        // The link points at a real set holding a stream: following it would read another set's data.
        _h.StoreDirect("other", Name(1), Now.UtcDateTime);
        Directory.CreateDirectory(Path.Combine(_h.RootDirPath, "web"));
        File.CreateSymbolicLink(Path.Combine(_h.RootDirPath, "web", "a"), _h.SetDirPath("other"));

        var result = await _h.ServeAsync(command);

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.Forbidden} ", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_with_BACKUP_ROOT_missing_is_an_io_error_not_a_missing_snapshot()
    {
        var missing = Path.Combine(_h.DirPath, "not-mounted");

        var result = await _h.ServeAsync($"get s {Name(1)}", options: _h.Options with { BackupRootDirPath = missing });

        Assert.Equal(10, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.IoError} ", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }
}

using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

/// <summary>hello and list tell an unusable BACKUP_ROOT apart from an empty set, before any upload.</summary>
public sealed class ServeSessionStoreUsabilityTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task Hello_and_list_answer_store_unusable_when_BACKUP_ROOT_is_missing_and_create_nothing()
    {
        var missing = Path.Combine(_h.DirPath, "unmounted");
        var options = _h.Options with { BackupRootDirPath = missing };

        var hello = await _h.ServeAsync("hello", options: options);
        var list = await _h.ServeAsync("list s", options: options);

        Assert.StartsWith("ERR store-unusable BACKUP_ROOT does not exist (is the backup disk mounted?", Assert.Single(hello.StdoutLines), StringComparison.Ordinal);
        Assert.DoesNotContain(missing, hello.StdoutText, StringComparison.Ordinal);
        Assert.Equal(10, hello.ExitCode);
        Assert.Equal(hello.StdoutLines, list.StdoutLines);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Hello_answers_store_unusable_when_BACKUP_ROOT_is_a_file()
    {
        var file = Path.Combine(_h.DirPath, "file");
        await File.WriteAllTextAsync(file, "");

        var hello = await _h.ServeAsync("hello", options: _h.Options with { BackupRootDirPath = file });

        Assert.Equal("ERR store-unusable BACKUP_ROOT is not a directory; nothing can be stored or listed", Assert.Single(hello.StdoutLines));
        Assert.DoesNotContain(file, hello.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Below_MIN_FREE_SPACE_hello_refuses_but_list_still_answers_for_restores()
    {
        await _h.ReceiveAsync("s", Name(5), Framing.Encrypted(3));
        var options = _h.Options with { MinFreeSpace = long.MaxValue };

        var hello = await _h.ServeAsync("hello", options: options);
        var list = await _h.ServeAsync("list s", options: options);

        Assert.StartsWith("ERR store-unusable only ", Assert.Single(hello.StdoutLines), StringComparison.Ordinal);
        Assert.Contains($"below MIN_FREE_SPACE={long.MaxValue}", hello.StdoutText, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.StartsWith(Name(5), Assert.Single(list.StdoutLines), StringComparison.Ordinal);
    }

    [RealFact("mount", "umount")]
    public async Task Hello_answers_store_unusable_when_BACKUP_ROOT_is_read_only()
    {
        await Run.OutAsync("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755,ro", "tmpfs", _h.RootDirPath);
        try
        {
            var hello = await _h.ServeAsync("hello");

            Assert.Equal("ERR store-unusable BACKUP_ROOT is on a read-only filesystem (remounted read-only after an error?); nothing can be stored", Assert.Single(hello.StdoutLines));
        }
        finally
        {
            await Run.OutAsync("umount", _h.RootDirPath);
        }
    }

    [Fact]
    public async Task A_receiver_that_also_serves_remote_btrfs_leaves_encrypted_stream_out_of_hello_instead_of_refusing()
    {
        var options = _h.Options with
        {
            BackupRootDirPath = Path.Combine(_h.DirPath, "unmounted"),
            LuksDevicePath = "/dev/null",
            LuksName = "backup",
            LuksMountDirPath = "/mnt/backup",
            ReceivedRootDirPath = "/mnt/backup/received",
        };

        var hello = await _h.ServeAsync("hello", options: options);

        Assert.Equal(0, hello.ExitCode);
        Assert.Matches(@"^btrfs-send-receiver \S+ proto=1 modes=remote-btrfs session=1$", Assert.Single(hello.StdoutLines));
        Assert.Contains(ErrorCodes.StoreUnusable, ErrorCodes.All);
    }
}

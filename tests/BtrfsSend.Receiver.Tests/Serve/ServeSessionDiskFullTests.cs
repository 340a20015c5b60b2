using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

public sealed class ServeSessionDiskFullTests
{
    [RealFact("mount", "umount")]
    public async Task A_disk_that_fills_mid_upload_is_no_space_exit_10_and_leaves_no_temp_file()
    {
        using var h = new ReceiverHarness();
        // A real ENOSPC from a 1 MiB tmpfs over BACKUP_ROOT (faster than a loop btrfs, same errno).
        await Run.OutAsync("mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", h.RootDirPath);
        try
        {
            await h.ReceiveAsync("s", Name(5), [0x8C, 1, 2, 3]);

            var result = await h.ServeAsync($"receive-stream s {Name(1)} full", Framing.Frame(Framing.Encrypted(3 * 1024 * 1024), frameLength: 65536));

            Assert.Equal(10, result.ExitCode);
            Assert.StartsWith($"ERR {ErrorCodes.NoSpace} ", result.StdoutText, StringComparison.Ordinal);
            Assert.Empty(h.Temps());
            var only = Assert.Single(h.Store.Read(Set("s")).Streams);
            Assert.Equal(Name(5), only.Manifest.Snapshot.Value);
            Assert.Equal(only.Manifest.StreamSha256, Framing.Sha256Hex(File.ReadAllBytes(only.StreamFilePath)));
        }
        finally
        {
            await Run.OutAsync("umount", h.RootDirPath);
        }
    }
}

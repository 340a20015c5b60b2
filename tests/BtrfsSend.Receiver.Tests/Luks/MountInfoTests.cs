using System.Text;
using BtrfsSend.Receiver.Luks;
using FsCheck;
using FsCheck.Fluent;

namespace BtrfsSend.Receiver.Tests.Luks;

public sealed class MountInfoTests
{
    /// <summary>The kernel's escaping in /proc/self/mountinfo (fs/proc_namespace.c: space, tab, newline, backslash as \ooo).</summary>
    private static string KernelEscape(string path)
    {
        var sb = new StringBuilder();
        foreach (var c in path)
        {
            sb.Append(c is ' ' or '\t' or '\n' or '\\' ? "\\" + Convert.ToString(c, 8).PadLeft(3, '0') : c.ToString());
        }

        return sb.ToString();
    }

    [FsCheck.Xunit.Property(MaxTest = 300)]
    public Property Unescape_undoes_the_kernel_escaping_of_any_path()
        => Prop.ForAll(
            Gen.Elements('a', 'z', '/', ' ', '\t', '\n', '\\', '0', '7', '.').ArrayOf().Select(cs => new string(cs)).ToArbitrary(),
            path => MountInfo.Unescape(KernelEscape(path)) == path);

    [Fact]
    public void A_directory_is_a_mount_point_only_when_mountinfo_lists_it()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "36 35 98:0 / /mnt/back\\040up rw,noatime master:1 - btrfs /dev/loop0 rw\n37 35 98:0 / /other rw - ext4 /dev/sda1 rw\n");

            Assert.True(MountInfo.IsMountPoint("/mnt/back up/", file));
            Assert.False(MountInfo.IsMountPoint("/mnt/back", file));
            Assert.False(MountInfo.IsMountPoint("/mnt/back up/received", file));
        }
        finally
        {
            File.Delete(file);
        }
    }
}

using BtrfsSend.Core.Btrfs;

namespace BtrfsSend.Core.Tests.Btrfs;

public sealed class BtrfsArgvTests
{
    public static TheoryData<string[], string> Cases => new()
    {
        { BtrfsArgv.Send("/s/snap a"), "btrfs|send|-q|/s/snap a" },
        { BtrfsArgv.Send("/s/b", "/s/a"), "btrfs|send|-q|-p|/s/a|/s/b" },
        { BtrfsArgv.Send("/s/b", "/s/a", new SendProtocol(2, false)), "btrfs|send|-q|--proto|2|-p|/s/a|/s/b" },
        { BtrfsArgv.Send("/s/b", null, new SendProtocol(2, true)), "btrfs|send|-q|--proto|2|--compressed-data|/s/b" },
        { BtrfsArgv.Send("/s/b", null, SendProtocol.V1), "btrfs|send|-q|/s/b" },
        { BtrfsArgv.Receive("/r"), "btrfs|receive|-q|--chroot|/r" },
        { BtrfsArgv.Receive("/r", stopAtEnd: true), "btrfs|receive|-q|-e|--chroot|/r" },
        { BtrfsArgv.SnapshotReadOnly("/m/@rootfs", "/m/snaps/x"), "btrfs|subvolume|snapshot|-r|/m/@rootfs|/m/snaps/x" },
        { BtrfsArgv.DeleteSubvolume("/m/x"), "btrfs|subvolume|delete|--commit-after|/m/x" },
        { BtrfsArgv.ShowSubvolume("/m/x"), "btrfs|subvolume|show|/m/x" },
        { BtrfsArgv.GetReadOnly("/m/x"), "btrfs|property|get|-ts|/m/x|ro" },
        { BtrfsArgv.SetReadOnly("/m/x", false), "btrfs|property|set|-ts|/m/x|ro|false" },
        { BtrfsArgv.ListSubvolumesBelow("/m"), "btrfs|subvolume|list|-o|/m" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_btrfs_command_is_built_as_an_argv_array(string[] argv, string expected)
    {
        Assert.Equal(expected, string.Join('|', argv));
    }

    [Fact]
    public void A_path_that_looks_like_an_option_or_holds_shell_syntax_stays_one_word()
    {
        var argv = BtrfsArgv.Send("/snaps/$(reboot); rm -rf /");

        Assert.Equal("/snaps/$(reboot); rm -rf /", argv[^1]);
        Assert.Equal(4, argv.Length);
    }
}

using BtrfsSend.Receiver.Luks;

namespace BtrfsSend.Receiver.Tests.Luks;

public sealed class LuksArgvTests
{
    public static TheoryData<string[], string[]> Table() => new()
    {
        { LuksArgv.Open(null, "/dev/sdb1", "btrfs_backup"), ["cryptsetup", "luksOpen", "--key-file=-", "/dev/sdb1", "btrfs_backup"] },
        { LuksArgv.Open("/opt/t", "/dev/sdb1", "b"), ["/opt/t/cryptsetup", "luksOpen", "--key-file=-", "/dev/sdb1", "b"] },
        { LuksArgv.Close(null, "btrfs_backup"), ["cryptsetup", "luksClose", "btrfs_backup"] },
        { LuksArgv.Mount(null, "btrfs_backup", "/mnt/btrfs backup"), ["mount", "/dev/mapper/btrfs_backup", "/mnt/btrfs backup"] },
        { LuksArgv.Unmount("/opt/t", "/mnt/b"), ["/opt/t/umount", "/mnt/b"] },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Luks_argv_is_built_word_by_word(string[] actual, string[] expected) => Assert.Equal(expected, actual);

    [Theory]
    [InlineData("/mnt/with\\040space", "/mnt/with space")]
    [InlineData("/mnt/back\\134slash", "/mnt/back\\slash")]
    [InlineData("/mnt/plain", "/mnt/plain")]
    [InlineData("/mnt/odd\\9", "/mnt/odd\\9")]
    public void Mountinfo_escapes_are_undone(string field, string expected) => Assert.Equal(expected, MountInfo.Unescape(field));

    [Fact]
    public void Subvolume_show_output_gives_readonly_received_uuid_and_receive_time()
    {
        const string show = "r\n\tName: \t\t\tr\n\tUUID: \t\t\t2c01\n\tReceived UUID: \t\t80119ab3-e185\n\tCreation time: \t\t2026-11-23 05:21:08 +0000\n\tFlags: \t\t\treadonly\n\tReceive time: \t\t2026-11-23 06:00:01 +0100\n";

        var parsed = ReceivedSubvolume.Parse(show);

        Assert.True(parsed.IsComplete);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 5, 0, 1, TimeSpan.Zero), parsed.ReceivedAt!.Value.ToUniversalTime());
    }

    [Fact]
    public void A_writable_subvolume_or_one_without_received_uuid_is_not_complete()
    {
        Assert.False(ReceivedSubvolume.Parse("\tReceived UUID: \t\tabc\n\tFlags: \t\t\t-\n").IsComplete);
        Assert.False(ReceivedSubvolume.Parse("\tReceived UUID: \t\t-\n\tFlags: \t\t\treadonly\n").IsComplete);
    }
}

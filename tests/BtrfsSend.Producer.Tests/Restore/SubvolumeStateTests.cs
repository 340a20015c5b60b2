using BtrfsSend.Producer.Restore;

namespace BtrfsSend.Producer.Tests.Restore;

public sealed class SubvolumeStateTests
{
    // btrfs-progs 6.2 'btrfs subvolume show' on a received snapshot.
    private const string ReceivedShow = """
        prod-srv-rootfs-20260101T000000Z
        	Name: 			prod-srv-rootfs-20260101T000000Z
        	UUID: 			5b3f1b7e-2c54-b84e-9a1c-0d2c4b0e6e11
        	Parent UUID: 		-
        	Received UUID: 		9e0b8a52-71d3-9f4c-8d0a-3b3b3b3b3b3b
        	Creation time: 		2026-01-01 00:00:01 +0000
        	Subvolume ID: 		257
        	Generation: 		12
        	Gen at creation: 	9
        	Parent ID: 		5
        	Top level ID: 		5
        	Flags: 			readonly
        	Send transid: 		8
        	Send time: 		2026-01-01 00:00:01 +0000
        	Receive transid: 	12
        	Receive time: 		2026-01-01 00:00:02 +0000
        	Snapshot(s):
        	Quota group:		n/a
        """;

    [Theory]
    [InlineData("ro=true\n", true, true)]
    [InlineData("ro=false\n", false, false)]
    [InlineData("", false, false)]
    public void A_received_subvolume_is_complete_only_when_read_only(string ro, bool isReadOnly, bool isComplete)
    {
        var state = SubvolumeState.TryParse(ReceivedShow, ro)!;

        Assert.Equal("5b3f1b7e-2c54-b84e-9a1c-0d2c4b0e6e11", state.Uuid);
        Assert.Equal("9e0b8a52-71d3-9f4c-8d0a-3b3b3b3b3b3b", state.ReceivedUuid);
        Assert.Equal(isReadOnly, state.IsReadOnly);
        Assert.Equal(isComplete, state.IsCompleteReceive);
    }

    [Fact]
    public void A_dash_received_uuid_is_no_received_uuid_and_never_complete()
    {
        var state = SubvolumeState.TryParse(ReceivedShow.Replace("9e0b8a52-71d3-9f4c-8d0a-3b3b3b3b3b3b", "-", StringComparison.Ordinal), "ro=true")!;

        Assert.Null(state.ReceivedUuid);
        Assert.False(state.IsCompleteReceive);
    }

    [Fact]
    public void Output_without_a_uuid_is_not_a_subvolume()
    {
        Assert.Null(SubvolumeState.TryParse("ERROR: Not a Btrfs subvolume: Invalid argument\n", ""));
    }
}

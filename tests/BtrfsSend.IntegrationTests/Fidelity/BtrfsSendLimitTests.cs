using BtrfsSend.IntegrationTests.Fixtures;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Fidelity;

/// <summary>
/// What plain <c>btrfs send | btrfs receive</c> (this kernel, btrfs-progs 6.2) does not carry,
/// measured: each test builds a tree, sends a full and an incremental through the real tools,
/// and shows the difference (docs/fidelity.md lists them). If btrfs starts carrying one of them,
/// its test fails and the list must shrink.
/// </summary>
public sealed class BtrfsSendLimitTests(TreeDumpVolume volume) : IClassFixture<TreeDumpVolume>
{
    [RealTheory("mkfs.btrfs", "btrfs", "python3", "chattr")]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Chattr_flags_are_not_carried_by_either_protocol(int proto)
    {
        var (source, copy) = await CycleAsync(proto,
            "echo a > noatime; chattr +A noatime; echo d > nodump; chattr +d nodump; mkdir nocow; chattr +C nocow; echo a > append; chattr +a append",
            "echo more >> nodump");

        var differences = TreeDump.Differences(await TreeDump.DumpAsync(source), await TreeDump.DumpAsync(copy), Fidelity.Limits[0]);

        Assert.Equal(["append: flags 20 -> (none)", "noatime: flags 80 -> (none)", "nocow: flags 800000 -> (none)", "nodump: flags 40 -> (none)"], differences);
    }

    [RealTheory("mkfs.btrfs", "btrfs", "python3", "setfattr")]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_security_xattr_whose_name_is_a_prefix_of_security_capability_is_not_sent(int proto)
    {
        // The kernel skips security.capability in the xattr pass (it is sent after chown) with a
        // prefix compare, so security.c, security.ca, ... are dropped; security.cc is not.
        var (source, copy) = await CycleAsync(proto,
            "echo f > f; setfattr -n security.c -v 1 f; setfattr -n security.capa -v 2 f; setfattr -n security.cc -v 3 f; mkdir d; setfattr -n security.c -v 4 d",
            "");

        var differences = TreeDump.Differences(await TreeDump.DumpAsync(source), await TreeDump.DumpAsync(copy), Fidelity.Limits);

        Assert.Equal(["d: xattr.security.c 4 -> (none)", "f: xattr.security.c 1 -> (none)", "f: xattr.security.capa 2 -> (none)"], differences);
    }

    [RealFact("mkfs.btrfs", "btrfs", "python3", "fallocate", "filefrag")]
    public async Task Preallocated_extents_arrive_as_holes_which_the_comparison_cannot_tell_apart()
    {
        var (source, copy) = await CycleAsync(2, "fallocate -l 1M prealloc; printf x > tail; fallocate -o 4096 -l 1M -n tail", "");

        Assert.Empty(TreeDump.Differences(await TreeDump.DumpAsync(source), await TreeDump.DumpAsync(copy), Fidelity.Limits));
        Assert.Contains("unwritten", await Run.OutAsync("filefrag", "-v", Path.Combine(source, "prealloc")), StringComparison.Ordinal);
        Assert.DoesNotContain("unwritten", await Run.OutAsync("filefrag", "-v", Path.Combine(copy, "prealloc")), StringComparison.Ordinal);
        Assert.Equal(new FileInfo(Path.Combine(source, "tail")).Length, new FileInfo(Path.Combine(copy, "tail")).Length);
    }

    [RealTheory("mkfs.btrfs", "btrfs", "python3")]
    [InlineData(1)]
    [InlineData(2)]
    public async Task An_incremental_that_creates_a_file_below_an_unchanged_root_leaves_the_root_mtime_of_the_receive(int proto)
    {
        // btrfs receive creates every new inode under a temporary name in the subvolume root and
        // renames it into place, which sets the root's mtime; the stream has no utimes for a root
        // that did not change, so the receive time stays.
        var (source, copy) = await CycleAsync(proto, "mkdir sub; echo a > sub/f", "echo b > sub/new");

        var differences = TreeDump.Differences(await TreeDump.DumpAsync(source), await TreeDump.DumpAsync(copy));

        Assert.StartsWith(".: mtime ", Assert.Single(differences), StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "python3")]
    public async Task An_incremental_that_only_changes_existing_files_below_the_root_or_changes_the_root_carries_its_mtime()
    {
        var (source, copy) = await CycleAsync(1, "echo a > f; mkdir sub; echo a > sub/f", "echo b > g; echo b >> sub/f");

        Assert.Empty(TreeDump.Differences(await TreeDump.DumpAsync(source), await TreeDump.DumpAsync(copy)));
    }

    [RealTheory("mkfs.btrfs", "btrfs", "python3", "fallocate")]
    [InlineData(1, "data=0-4194304")]
    [InlineData(2, "data=0-1048576,2097152-4194304")]
    public async Task A_hole_punched_before_an_incremental_arrives_as_written_zeros_with_protocol_1_and_as_a_hole_with_protocol_2(int proto, string copyMap)
    {
        var (source, copy) = await CycleAsync(proto, "head -c 4M /dev/urandom > f", "fallocate --punch-hole --offset 1048576 --length 1048576 f");

        var differences = TreeDump.Differences(await TreeDump.DumpAsync(source), await TreeDump.DumpAsync(copy), Fidelity.Limits);

        Assert.Contains("data=0-1048576,2097152-4194304", await TreeDump.DumpAsync(source), StringComparison.Ordinal);
        Assert.Contains(copyMap, await TreeDump.DumpAsync(copy), StringComparison.Ordinal);
        Assert.Equal(proto == 1 ? ["f: data 0-1048576,2097152-4194304 -> 0-4194304"] : [], differences);
    }

    /// <summary>
    /// Builds a subvolume with <paramref name="build"/>, snapshots it, applies <paramref name="change"/>,
    /// snapshots again, and sends both (full, then incremental) with <c>--proto</c> into a receive
    /// directory on the same filesystem. Returns the second snapshot and its received copy.
    /// </summary>
    private async Task<(string Source, string Copy)> CycleAsync(int proto, string build, string change)
    {
        var dir = await volume.NewDirAsync();
        var script = $$"""
            set -e
            cd "$1"
            btrfs subvolume create vol >/dev/null
            ( cd vol && {{build}} )
            sync
            btrfs subvolume snapshot -r vol s1 >/dev/null
            ( cd vol && {{(change.Length == 0 ? "true" : change)}} )
            sleep 0.01
            btrfs subvolume snapshot -r vol s2 >/dev/null
            mkdir r
            btrfs send -q --proto {{proto}} s1 | btrfs receive -q --chroot r
            btrfs send -q --proto {{proto}} -p s1 s2 | btrfs receive -q --chroot r
            """;
        await Run.OutAsync("bash", "-c", script, "cycle", dir);
        return (Path.Combine(dir, "s2"), Path.Combine(dir, "r", "s2"));
    }
}

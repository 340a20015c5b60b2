using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Fixtures;

/// <summary>
/// The tree comparison (scripts/lib/treedump.py + <see cref="TreeDump"/>) notices every kind of
/// difference a restore could have: two trees are built by the same script, one is changed in
/// exactly one attribute, and the comparison must name that attribute on that path.
/// </summary>
public sealed class TreeDumpTests(TreeDumpVolume volume) : IClassFixture<TreeDumpVolume>
{
    /// <summary>
    /// The sample: every type, a hard-link pair, a sparse file, odd names. Then every mtime
    /// (root included) is set to one instant, so two builds are identical.
    /// </summary>
    private const string Build = """
        set -e
        cd "$1"
        printf 'content\n' > f
        printf 'other\n' > g
        mkdir d
        ln -s f l
        mkfifo p
        mknod c c 1 3
        mknod b b 7 200
        python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("s")'
        printf 'linked\n' > h1
        ln h1 h2
        printf 'linked\n' > h3
        truncate -s 1M sparse
        printf 'x' | dd of=sparse bs=1 seek=524288 conv=notrunc status=none
        printf 'nl\n' > "$(printf 'new\nline')"
        printf 'bad\n' > "$(printf 'inv\377alid')"
        """;

    private const string SameTimes = """
        cd "$1"
        find . -exec touch -h -d @1700000000.123456789 {} +
        """;

    [RealFact("mkfs.btrfs", "btrfs", "python3", "mknod", "mkfifo")]
    public async Task Two_trees_built_alike_compare_identical_root_included()
    {
        var (a, b) = await PairAsync("", "");

        Assert.Empty(TreeDump.Differences(await TreeDump.DumpAsync(a), await TreeDump.DumpAsync(b)));
        var dump = await TreeDump.DumpAsync(a);
        Assert.StartsWith("path=. type=d ", dump, StringComparison.Ordinal);
        Assert.Contains("path=new\\x0aline ", dump, StringComparison.Ordinal);
        Assert.Contains("path=inv\\xffalid ", dump, StringComparison.Ordinal);
        Assert.Contains("path=h2 type=f mode=0644 uid=0 gid=0 size=7 nlink=2 mtime=1700000000.123456789 links=h1 ", dump, StringComparison.Ordinal);
        Assert.Contains("path=b type=b mode=0644 uid=0 gid=0 size=0 nlink=1 mtime=1700000000.123456789 rdev=7:200", dump, StringComparison.Ordinal);
        Assert.Contains("data=524288-", dump, StringComparison.Ordinal);
    }

    [RealTheory("mkfs.btrfs", "btrfs", "python3", "mknod", "mkfifo", "setfattr", "setfacl", "setcap")]
    [InlineData("chmod 0600 f", "", "f: mode 0644 -> 0600")]
    [InlineData("chmod u+s f", "", "f: mode 0644 -> 4644")]
    [InlineData("chmod g+s d", "", "d: mode 0755 -> 2755")]
    [InlineData("chmod +t d", "", "d: mode 0755 -> 1755")]
    [InlineData("chmod 0700 .", "", ".: mode 0755 -> 0700")]
    [InlineData("chown 1234 f", "", "f: uid 0 -> 1234")]
    [InlineData("chown :5678 f", "", "f: gid 0 -> 5678")]
    [InlineData("chown -h 42 l", "", "l: uid 0 -> 42")]
    [InlineData("chown 7 .", "", ".: uid 0 -> 7")]
    [InlineData("printf 'content!\\n' > f", "", "f: size 8 -> 9")]
    [InlineData("printf 'CONTENT\\n' > f", "", "f: sha256 ")]
    [InlineData("", "touch -d @1700000000.123456788 f", "f: mtime 1700000000.123456789 -> 1700000000.123456788")]
    [InlineData("", "touch -d @-1000.5 f", "f: mtime 1700000000.123456789 -> -1001.500000000")]
    [InlineData("", "touch -d @1700000001.123456789 .", ".: mtime 1700000000.123456789 -> 1700000001.123456789")]
    [InlineData("ln -sfn g l", "", "l: target f -> g")]
    [InlineData("rm c && mknod c c 1 5", "", "c: rdev 1:3 -> 1:5")]
    [InlineData("rm b && mknod b b 8 200", "", "b: rdev 7:200 -> 8:200")]
    [InlineData("rm h2 && cp -p h1 h2", "", "h2: links h1 -> (none)")]
    [InlineData("rm h2 && ln h3 h2", "", "h1: links h1 -> (none)")]
    [InlineData("rm p && mkdir p", "", "p: type p -> d")]
    [InlineData("rm s && mkfifo s", "", "s: type s -> p")]
    [InlineData("setfattr -n user.note -v 1 f", "", "f: xattr.user.note (none) -> 1")]
    [InlineData("setfattr -n trusted.t -v 0x00ff d", "", "d: xattr.trusted.t (none) -> \\x00\\xff")]
    [InlineData("setfattr -h -n trusted.t -v x l", "", "l: xattr.trusted.t (none) -> x")]
    [InlineData("setfattr -n security.s -v 1 .", "", ".: xattr.security.s (none) -> 1")]
    [InlineData("setcap cap_net_raw+ep f", "", "f: xattr.security.capability (none) -> ")]
    [InlineData("setfacl -m u:1234:r f", "", "f: xattr.system.posix_acl_access (none) -> ")]
    [InlineData("setfacl -d -m u:1234:rx d", "", "d: xattr.system.posix_acl_default (none) -> ")]
    [InlineData("chattr +A f", "", "f: flags (none) -> 80")]
    [InlineData("chattr +C d", "", "d: flags (none) -> 800000")]
    [InlineData("dd if=/dev/zero of=sparse bs=4096 count=1 conv=notrunc status=none", "", "sparse: data 524288-")]
    [InlineData("rm \"$(printf 'new\\nline')\" && printf 'nl\\n' > \"$(printf 'new\\nlinE')\"", "", "new\\x0aline: missing from the copy")]
    [InlineData("mv \"$(printf 'inv\\377alid')\" \"$(printf 'inv\\376alid')\"", "", "inv\\xfealid: only in the copy")]
    public async Task A_single_changed_attribute_is_named_with_its_path_and_both_values(string change, string changeAfterTimes, string expected)
    {
        var (a, b) = await PairAsync(change, changeAfterTimes);

        var differences = TreeDump.Differences(await TreeDump.DumpAsync(a), await TreeDump.DumpAsync(b));

        Assert.Contains(differences, d => d.StartsWith(expected, StringComparison.Ordinal));
    }

    [RealFact("mkfs.btrfs", "btrfs", "python3", "mknod", "mkfifo")]
    public async Task An_allowance_hides_exactly_the_field_and_path_it_names()
    {
        var (a, b) = await PairAsync("", "touch -d @1 . f");
        var dumpA = await TreeDump.DumpAsync(a);
        var dumpB = await TreeDump.DumpAsync(b);

        Assert.Equal(["f: mtime 1700000000.123456789 -> 1.000000000"], TreeDump.Differences(dumpA, dumpB, new TreeAllowance(".", "mtime", "test")));
        Assert.Empty(TreeDump.Differences(dumpA, dumpB, new TreeAllowance(null, "mtime", "test", Type: null)));
        Assert.Equal([".: mtime 1700000000.123456789 -> 1.000000000"], TreeDump.Differences(dumpA, dumpB, new TreeAllowance(null, "mtime", "test", Type: "f")));
    }

    /// <summary>Builds the sample twice; applies <paramref name="change"/> to the second before the common mtimes are set, <paramref name="changeAfterTimes"/> after.</summary>
    private async Task<(string A, string B)> PairAsync(string change, string changeAfterTimes)
    {
        var a = await volume.NewDirAsync();
        var b = await volume.NewDirAsync();
        foreach (var (dir, before, after) in new[] { (a, "", ""), (b, change, changeAfterTimes) })
        {
            await Run.OutAsync("bash", "-c", Build, "build", dir);
            if (before.Length > 0)
            {
                await Run.OutAsync("bash", "-ec", $"cd \"$1\"; {before}", "change", dir);
            }

            await Run.OutAsync("bash", "-c", SameTimes, "times", dir);
            if (after.Length > 0)
            {
                await Run.OutAsync("bash", "-ec", $"cd \"$1\"; {after}", "change", dir);
            }
        }

        return (a, b);
    }
}

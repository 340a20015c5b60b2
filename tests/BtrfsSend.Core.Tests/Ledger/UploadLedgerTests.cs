using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Ledger;

public sealed class UploadLedgerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ledger-").FullName;

    private static LedgerRecord Record(int i) => new(
        new DateTime(2026, 12, 6, 20, 57, i, DateTimeKind.Utc),
        BackupSet.Parse("prod-srv/rootfs"),
        SnapshotName.Create("prod-srv-rootfs", new DateTimeOffset(2026, 12, 6, 20, 57, i, TimeSpan.Zero)),
        i == 0 ? StreamKind.Full : StreamKind.Incremental,
        i == 0 ? null : SnapshotName.Create("prod-srv-rootfs", new DateTimeOffset(2026, 12, 6, 20, 57, i - 1, TimeSpan.Zero)),
        1000 + i,
        new string((char)('a' + i), 64));

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_first_append_creates_the_file_0600_and_later_appends_keep_every_earlier_byte()
    {
        var path = Path.Combine(_dir, "sub", "ledger");
        var ledger = new UploadLedger(path);

        ledger.Append(Record(0));
        var first = File.ReadAllBytes(path);
        ledger.Append(Record(1));
        ledger.Append(Record(2));

        Assert.Equal(UploadLedger.Mode, File.GetUnixFileMode(path));
        Assert.Equal(first, File.ReadAllBytes(path)[..first.Length]);
        Assert.Equal([Record(0), Record(1), Record(2)], ledger.Read());
        Assert.Equal(Record(2), UploadLedger.NewestOf(ledger.Read(), BackupSet.Parse("prod-srv/rootfs")));
        Assert.Null(UploadLedger.NewestOf(ledger.Read(), BackupSet.Parse("other/set")));
    }

    [Fact]
    public void A_ledger_that_is_a_symlink_is_refused_and_its_target_is_not_touched()
    {
        var target = Path.Combine(_dir, "elsewhere");
        File.WriteAllText(target, "");
        File.SetUnixFileMode(target, UploadLedger.Mode);
        var path = Path.Combine(_dir, "ledger");
        File.CreateSymbolicLink(path, target);

        var ex = Assert.Throws<LedgerException>(() => new UploadLedger(path).Append(Record(0)));

        Assert.Contains("is a symlink", ex.Message, StringComparison.Ordinal);
        Assert.Equal("", File.ReadAllText(target));
    }

    [Theory]
    [InlineData(0b110_100_000)]
    [InlineData(0b110_000_100)]
    [InlineData(0b100_000_000)]
    [InlineData(0b110_110_110)]
    public void A_ledger_with_permissions_other_than_0600_is_refused_naming_the_mode(int mode)
    {
        var path = Path.Combine(_dir, "ledger");
        new UploadLedger(path).Append(Record(0));
        File.SetUnixFileMode(path, (UnixFileMode)mode);

        var ex = Assert.Throws<LedgerException>(() => new UploadLedger(path).Append(Record(1)));

        Assert.Contains($"has mode 0{Convert.ToString(mode, 8)}; allowed: 0600", ex.Message, StringComparison.Ordinal);
        Assert.Single(File.ReadAllLines(path));
    }

    [RealFact]
    public void A_ledger_owned_by_another_user_is_refused_naming_the_owner_and_is_neither_read_nor_appended_to()
    {
        var path = Path.Combine(_dir, "ledger");
        new UploadLedger(path).Append(Record(0));
        var before = File.ReadAllBytes(path);
        Assert.Equal(0, Core.Storage.Native.Chown(path, 4242, 4242));

        var append = Assert.Throws<LedgerException>(() => new UploadLedger(path).Append(Record(1)));
        var read = Assert.Throws<LedgerException>(() => new UploadLedger(path).Read());

        Assert.Equal(4242u, Core.Storage.FileOwner.UidOf(path));
        Assert.Contains($"LEDGER_FILE {path} is owned by uid 4242; allowed: owned by root or by the user running btrfs-send-backup (uid 0)", append.Message, StringComparison.Ordinal);
        Assert.Equal(append.Message, read.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [RealFact]
    public void A_ledger_owned_by_root_or_the_invoking_user_is_usable()
    {
        var path = Path.Combine(_dir, "ledger");
        new UploadLedger(path).Append(Record(0));

        Assert.Equal(0u, Core.Storage.FileOwner.UidOf(path));
        Assert.Equal([Record(0)], new UploadLedger(path).Read());
    }

    [Fact]
    public void A_cut_last_line_is_refused_before_anything_is_appended_after_it()
    {
        var path = Path.Combine(_dir, "ledger");
        new UploadLedger(path).Append(Record(0));
        File.AppendAllText(path, "ack1 2026-12");

        var ex = Assert.Throws<LedgerException>(() => new UploadLedger(path).Append(Record(1)));

        Assert.Contains("ends in a cut line", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("ack1 2026-12", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_ledger_reads_as_empty_and_is_usable()
    {
        var ledger = new UploadLedger(Path.Combine(_dir, "none"));

        ledger.CheckUsable();
        Assert.False(ledger.Exists);
        Assert.Empty(ledger.Read());
    }
}

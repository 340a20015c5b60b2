using BtrfsSend.Core.Ledger;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Tests.Naming;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Ledger;

public sealed class LedgerRecordTests
{
    private const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private const string Full = "ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha;
    private const string Incremental = "ack1 2026-12-07T02:05:09Z prod-srv/rootfs prod-srv-rootfs-20261207T020500Z incremental prod-srv-rootfs-20261206T205700Z 0 " + Sha;

    private static Gen<string> Hex(int n) => Gen.Elements("0123456789abcdef".ToCharArray()).ArrayOf(n).Select(a => new string(a));

    private static Arbitrary<LedgerRecord> Records() =>
        (from set in NameArbitraries.BackupSets().Generator
         from prefix in NameArbitraries.Prefix()
         from seconds in Gen.Choose(1, int.MaxValue)
         from gap in Gen.Choose(1, 10_000_000)
         from acked in Gen.Choose(0, int.MaxValue)
         from incremental in ArbMap.Default.GeneratorFor<bool>()
         from bytes in ArbMap.Default.GeneratorFor<long>().Select(l => l == long.MinValue ? 0 : Math.Abs(l))
         from sha in Hex(64)
         select new LedgerRecord(
             DateTime.UnixEpoch.AddSeconds(acked),
             BackupSet.Parse(set),
             SnapshotName.Create(prefix, DateTimeOffset.FromUnixTimeSeconds(seconds)),
             incremental ? StreamKind.Incremental : StreamKind.Full,
             incremental ? SnapshotName.Create(prefix, DateTimeOffset.FromUnixTimeSeconds(seconds - (long)gap)) : null,
             bytes,
             sha)).ToArbitrary();

    [Theory]
    [InlineData(Full)]
    [InlineData(Incremental)]
    public void A_valid_line_parses_and_renders_back_byte_for_byte(string line)
    {
        var parsed = LedgerRecord.Parse(line);

        Assert.True(parsed.IsValid, parsed.Error);
        Assert.Equal(line, parsed.Value!.Render());
    }

    [Fact]
    public void The_fields_land_where_the_documented_format_says()
    {
        var r = LedgerRecord.Parse(Incremental).Value!;

        Assert.Equal(new DateTime(2026, 12, 7, 2, 5, 9, DateTimeKind.Utc), r.AcknowledgedAtUtc);
        Assert.Equal("prod-srv/rootfs", r.Set.Value);
        Assert.Equal("prod-srv-rootfs-20261207T020500Z", r.Snapshot.Value);
        Assert.Equal(StreamKind.Incremental, r.Kind);
        Assert.Equal("prod-srv-rootfs-20261206T205700Z", r.Parent!.Value);
        Assert.Equal(0, r.Bytes);
        Assert.Equal(Sha, r.Sha256);
    }

    [Theory]
    [InlineData("", "empty line")]
    [InlineData("ack2 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha, "record tag 'ack2' is not 'ack1'")]
    [InlineData("ack1  2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha, "9 fields")]
    [InlineData(Full + " ", "9 fields")]
    [InlineData(Full + "\r", "not printable ASCII")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234", "7 fields")]
    [InlineData("ack1 2026-12-06 20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha, "9 fields")]
    [InlineData("ack1 2026-12-06T20:57:01+01:00 prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha, "time '2026-12-06T20:57:01+01:00'")]
    [InlineData("ack1 2026-12-06T20:57:01Z Prod/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha, "set:")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs ../etc full - 1234 " + Sha, "snapshot:")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z diff - 1234 " + Sha, "kind 'diff'")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full prod-srv-rootfs-20261205T205700Z 1234 " + Sha, "of a full stream is not '-'")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z incremental - 1234 " + Sha, "parent:")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 01234 " + Sha, "byte count '01234'")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - -1 " + Sha, "byte count '-1'")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", "sha256")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 abc", "sha256 'abc'")]
    [InlineData("ack1 2026-12-06T20:57:01Z prod-srv/rootfs prod-srv-rootfs-20261206T205700Z full - 1234 " + Sha + "\u00e9", "not printable ASCII")]
    public void A_malformed_line_is_refused_naming_what_is_wrong(string line, string expected)
    {
        var parsed = LedgerRecord.Parse(line);

        Assert.False(parsed.IsValid);
        Assert.Contains(expected, parsed.Error, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property Render_then_Parse_gives_the_same_record() =>
        Prop.ForAll(Records(), record =>
        {
            var line = record.Render();
            var parsed = LedgerRecord.Parse(line);
            return parsed.IsValid && parsed.Value == record && parsed.Value!.Render() == line;
        });

    [Property(MaxTest = 300)]
    public Property A_ledger_of_records_parses_back_and_a_garbage_line_anywhere_is_refused_with_its_line_number() =>
        Prop.ForAll(Records().Generator.ArrayOf().ToArbitrary(), Gen.Choose(0, 1000).ToArbitrary(), NameArbitraries.HostileStrings(), (records, pick, garbage) =>
        {
            var text = string.Concat(records.Select(r => r.Render() + "\n"));
            var back = UploadLedger.Parse(text, "ledger");
            var roundTrip = back.SequenceEqual(records);
            var bad = garbage.Replace("\n", "", StringComparison.Ordinal);
            if (LedgerRecord.Parse(bad).IsValid)
            {
                return roundTrip;
            }

            var at = pick % (records.Length + 1);
            var lines = records.Select(r => r.Render()).ToList();
            lines.Insert(at, bad);
            var ex = Record.Exception(() => UploadLedger.Parse(string.Concat(lines.Select(l => l + "\n")), "ledger"));
            return roundTrip && ex is LedgerException && ex.Message.StartsWith($"ledger line {at + 1}: ", StringComparison.Ordinal);
        });

    [Fact]
    public void A_ledger_whose_last_line_has_no_newline_is_refused_as_a_cut_write()
    {
        var ex = Assert.Throws<LedgerException>(() => UploadLedger.Parse(Full + "\n" + Incremental, "L"));

        Assert.Equal("L line 2: the last line has no final newline (a cut write); remove it by hand", ex.Message);
    }
}

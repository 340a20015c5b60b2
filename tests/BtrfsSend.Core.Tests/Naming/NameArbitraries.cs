using FsCheck;
using FsCheck.Fluent;

namespace BtrfsSend.Core.Tests.Naming;

/// <summary>Generators for names: valid ones built from the rules, and hostile ones near them.</summary>
internal static class NameArbitraries
{
    private const string SetFirst = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SetRest = SetFirst + "._-";
    private const string PrefixFirst = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string PrefixRest = PrefixFirst + "._-";

    public static Gen<string> SetSegment() =>
        from first in Gen.Elements(SetFirst.ToCharArray())
        from rest in Gen.Elements(SetRest.ToCharArray()).ArrayOf().Select(a => a.Take(63).ToArray())
        let s = first + new string(rest)
        where !s.Contains("..", StringComparison.Ordinal)
        select s;

    public static Arbitrary<string> BackupSets() =>
        (from n in Gen.Choose(1, 4)
         from segments in SetSegment().ArrayOf(n)
         select string.Join('/', segments)).ToArbitrary();

    public static Gen<string> Prefix() =>
        from first in Gen.Elements(PrefixFirst.ToCharArray())
        from rest in Gen.Elements(PrefixRest.ToCharArray()).ArrayOf().Select(a => a.Take(99).ToArray())
        let s = first + new string(rest)
        where !s.Contains("..", StringComparison.Ordinal)
        select s;

    public static Gen<DateTimeOffset> Time() =>
        from seconds in Gen.Choose(0, int.MaxValue)
        from extra in Gen.Choose(0, 3)
        select DateTimeOffset.FromUnixTimeSeconds(((long)extra * int.MaxValue) + seconds);

    public static Arbitrary<(string Prefix, DateTimeOffset Time)> SnapshotParts() =>
        (from prefix in Prefix()
         from time in Time()
         select (prefix, time)).ToArbitrary();

    /// <summary>Strings made of characters that matter to paths and shells, plus arbitrary ones.</summary>
    public static Arbitrary<string> HostileStrings()
    {
        var pieces = Gen.Elements(
            "a", "z", "0", "9", "A", ".", "..", "/", "-", "_", " ", "\t", "\n", "\0", "\u00e9", "\u202e",
            "$", "`", ";", "*", "~", "T", "Z", "20260102T030405Z", "-20261301T000000Z", "prod-srv", "rootfs");
        var structured = pieces.ArrayOf().Select(a => string.Concat(a));
        return Gen.OneOf(structured, ArbMap.Default.GeneratorFor<string>().Where(s => s is not null)).ToArbitrary();
    }
}

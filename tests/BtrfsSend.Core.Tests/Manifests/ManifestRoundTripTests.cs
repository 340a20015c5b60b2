using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Tests.Naming;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Manifests;

public sealed class ManifestRoundTripTests
{
    private static Gen<string> Hex(int n) => Gen.Elements("0123456789abcdef".ToCharArray()).ArrayOf(n).Select(a => new string(a));

    private static Gen<string?> Uuid() => Gen.OneOf(
        Gen.Constant<string?>(null),
        from a in Hex(8) from b in Hex(4) from c in Hex(4) from d in Hex(4) from e in Hex(12) select (string?)$"{a}-{b}-{c}-{d}-{e}");

    private static Gen<string> Value() =>
        ArbMap.Default.GeneratorFor<string>()
            .Select(s => s ?? "")
            .Select(s => new string(s.Where(c => !char.IsControl(c) && !char.IsSurrogate(c) && c is not ('\u2028' or '\u2029' or '\uFEFF')).ToArray()));

    private static Arbitrary<Manifest> Manifests()
    {
        var gen =
            from set in NameArbitraries.BackupSets().Generator
            from prefix in NameArbitraries.Prefix()
            from seconds in Gen.Choose(1, int.MaxValue)
            from gap in Gen.Choose(1, 10_000_000)
            from incremental in ArbMap.Default.GeneratorFor<bool>()
            from bytes in ArbMap.Default.GeneratorFor<long>().Select(l => l == long.MinValue ? 0 : Math.Abs(l))
            from sha in Hex(64)
            from enc in Gen.Elements(Enum.GetValues<StreamEncryption>())
            from comp in Gen.Elements(Enum.GetValues<StreamCompression>())
            from proto in Gen.Elements(1, 2)
            from received in Gen.Choose(0, int.MaxValue)
            from client in Gen.Elements("prod-srv", "a", "web.1_x-y")
            from snapUuid in Uuid()
            from parentUuid in Uuid()
            from version in Gen.OneOf(Gen.Constant<string?>(null), Value().Select(v => (string?)v))
            from extraKeys in Gen.Elements("x", "zz_top", "future9", "note").ArrayOf()
            from extraValues in Value().ArrayOf(extraKeys.Length)
            let snap = SnapshotName.Create(prefix, DateTimeOffset.FromUnixTimeSeconds(seconds))
            select new Manifest
            {
                Set = BackupSet.Parse(set),
                Snapshot = snap,
                Kind = incremental ? StreamKind.Incremental : StreamKind.Full,
                Parent = incremental ? SnapshotName.Create(prefix, DateTimeOffset.FromUnixTimeSeconds(seconds - (long)gap)) : null,
                StreamBytes = bytes,
                StreamSha256 = sha,
                Encryption = enc,
                Compression = comp,
                SendProto = proto,
                ReceivedAtUtc = DateTime.UnixEpoch.AddSeconds(received),
                Client = client,
                SnapshotUuid = snapUuid,
                ParentUuid = incremental ? parentUuid : null,
                ProducerVersion = version,
                UnknownKeys = extraKeys.Distinct().Zip(extraValues, (k, v) => new KeyValuePair<string, string>(k, v)).ToArray(),
            };
        return gen.ToArbitrary();
    }

    [Property(MaxTest = 300)]
    public Property Render_then_Parse_gives_the_same_manifest() =>
        Prop.ForAll(Manifests(), manifest =>
        {
            var text = ManifestWriter.Render(manifest);
            var parsed = ManifestReader.Parse(text, "t");
            return parsed.IsValid && parsed.Manifest == manifest && ManifestWriter.Render(parsed.Manifest!) == text;
        });

    [Property(MaxTest = 300)]
    public Property Dropping_any_line_but_an_optional_one_is_refused() =>
        Prop.ForAll(Manifests(), Gen.Choose(0, 100).ToArbitrary(), (manifest, pick) =>
        {
            var lines = ManifestWriter.Render(manifest).Split('\n')[..^1];
            var drop = pick % lines.Length;
            var key = lines[drop].Split('=')[0];
            var text = string.Concat(lines.Where((_, i) => i != drop).Select(l => l + "\n"));
            var parsed = ManifestReader.Parse(text, "t");
            var optional = key is "snapshot_uuid" or "parent_uuid" or "producer_version" || manifest.UnknownKeys.Any(k => k.Key == key);
            return optional ? parsed.IsValid : !parsed.IsValid && parsed.Errors.Count > 0;
        });
}

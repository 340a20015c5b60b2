using System.Globalization;
using System.Text;
using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using BtrfsSend.Core.Tests.Naming;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace BtrfsSend.Core.Tests.Configuration;

public sealed class ProducerConfigRoundTripTests : IDisposable
{
    private readonly TempDir dir = new("cfgprop");
    private readonly string passphrase;
    private readonly string luks;

    public ProducerConfigRoundTripTests()
    {
        passphrase = dir.Sub("pass phrase");
        luks = dir.Sub("luks-key");
        foreach (var f in new[] { passphrase, luks })
        {
            File.WriteAllText(f, "k");
            File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Dispose() => dir.Dispose();

    private static Gen<string> PathGen() =>
        Gen.Elements("/a", "/mnt/btrfs-root", "/x y/with 'quote'", "/p\"q", "/h#sh", "/dollar$sign", "/semi;colon", "/ü")
            .SelectMany(p => Gen.Choose(0, 99).Select(n => $"{p}/{n}"));

    private Arbitrary<ProducerOptions> Options()
    {
        var words = Gen.Elements("nginx", "php8.2-fpm", "user@1.service", "a:b", "x_y.z");
        var argv = Gen.Elements("--flag", "a b", "it's", "$HOME", "(x)", "*", "", "#c");
        var gen =
            from top in PathGen()
            from subvol in Gen.Elements("@rootfs", "@", "a/b", "sub vol")
            from snapDir in PathGen()
            from prefix in NameArbitraries.Prefix()
            from state in PathGen()
            from ownLock in ArbMap.Default.GeneratorFor<bool>()
            from lockPath in PathGen()
            from target in Gen.Elements("backup-srv", "btrfs-ingest@backup-srv", "u@10.0.0.1", "u@fe80::1")
            from port in Gen.Choose(1, 65535)
            from identity in Gen.OneOf(Gen.Constant<string?>(null), PathGen().Select(p => (string?)p))
            from cipher in Gen.Elements<string?>(null, "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com,aes256-ctr")
            from set in NameArbitraries.BackupSets().Generator
            from remote in ArbMap.Default.GeneratorFor<bool>()
            from full in Gen.Choose(1, 1_000_000)
            from counts in Gen.Choose(0, 1000).ArrayOf(5)
            from within in Gen.Elements<TimeSpan?>(null, TimeSpan.FromSeconds(59), TimeSpan.FromHours(36), TimeSpan.FromDays(7), TimeSpan.FromDays(14))
            from services in words.ArrayOf()
            from compression in Gen.Elements(StreamCompression.None, StreamCompression.Zstd)
            from pre in argv.ArrayOf().Select(a => a.Length == 0 ? a : ["/usr/bin/hook", .. a])
            from post in argv.ArrayOf().Select(a => a.Length == 0 ? a : ["/bin/post hook", .. a])
            from canary in Gen.OneOf(Gen.Constant<string?>(null), PathGen().Select(p => (string?)p[1..]))
            select new ProducerOptions
            {
                SourceTopDirPath = top,
                SourceSubvol = subvol,
                SnapshotDirPath = snapDir,
                SnapshotPrefix = prefix,
                StateFilePath = state,
                LockFilePath = ownLock ? lockPath : state + ".lock",
                LedgerFilePath = ownLock ? lockPath + ".ledger" : state + ".ledger",
                SshTarget = target,
                SshPort = port,
                SshIdentityFilePath = identity,
                SshCipher = cipher,
                BackupSet = BackupSet.Parse(set),
                Mode = remote ? BackupMode.RemoteBtrfs : BackupMode.EncryptedStream,
                PassphraseFilePath = remote ? null : passphrase,
                LuksKeyFilePath = remote ? luks : null,
                FullIntervalDays = full,
                LocalKeep = new RetentionPolicy(counts[0], counts[1], counts[2], counts[3], counts[4], within),
                ServicesToQuiesce = services,
                Compression = compression,
                PreSnapshotHook = pre,
                PostSnapshotHook = post,
                CanaryFilePath = canary,
            };
        return gen.ToArbitrary();
    }

    /// <summary>Writes options as a prod.conf the way an admin could, quoting with ShellWords.</summary>
    internal static string Write(ProducerOptions o)
    {
        var sb = new StringBuilder("# generated\n\n");
        void Line(string key, string? value)
        {
            if (value is not null)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{key}={ShellWords.Quote(value)}\n");
            }
        }

        void Array(string key, IReadOnlyList<string> items) =>
            sb.Append(CultureInfo.InvariantCulture, $"{key}=({ShellWords.Join(items)})  # array\n");

        Line("SOURCE_TOP", o.SourceTopDirPath);
        Line("SOURCE_SUBVOL", o.SourceSubvol);
        Line("SNAPSHOT_DIR", o.SnapshotDirPath);
        Line("SNAPSHOT_PREFIX", o.SnapshotPrefix);
        Line("STATE_FILE", o.StateFilePath);
        Line("LOCK_FILE", o.LockFilePath);
        Line("LEDGER_FILE", o.LedgerFilePath);
        sb.Append("export ");
        Line("BACKUP_SSH_TARGET", o.SshTarget);
        Line("BACKUP_SSH_PORT", o.SshPort == 22 ? "" : o.SshPort.ToString(CultureInfo.InvariantCulture));
        Line("BACKUP_SSH_IDENTITY_FILE", o.SshIdentityFilePath ?? "");
        Line("SSH_CIPHER", o.SshCipher);
        Line("BACKUP_SET", o.BackupSet.Value);
        Line("BACKUP_MODE", o.Mode == BackupMode.RemoteBtrfs ? "remote-btrfs" : "encrypted-stream");
        Line("PASSPHRASE_FILE", o.PassphraseFilePath);
        Line("LUKS_KEY_FILE", o.LuksKeyFilePath);
        Line("FULL_INTERVAL_DAYS", o.FullIntervalDays.ToString(CultureInfo.InvariantCulture));
        Line("LOCAL_KEEP_HOURLY", o.LocalKeep.Hourly.ToString(CultureInfo.InvariantCulture));
        Line("LOCAL_KEEP_DAILY", o.LocalKeep.Daily.ToString(CultureInfo.InvariantCulture));
        Line("LOCAL_KEEP_WEEKLY", o.LocalKeep.Weekly.ToString(CultureInfo.InvariantCulture));
        Line("LOCAL_KEEP_MONTHLY", o.LocalKeep.Monthly.ToString(CultureInfo.InvariantCulture));
        Line("LOCAL_KEEP_YEARLY", o.LocalKeep.Yearly.ToString(CultureInfo.InvariantCulture));
        Line("LOCAL_KEEP_WITHIN", o.LocalKeep.Within is { } w ? ConfigReader.Format(w) : "");
        Array("SERVICES_TO_QUIESCE", o.ServicesToQuiesce);
        Line("COMPRESSION", o.Compression == StreamCompression.Zstd ? "zstd" : "none");
        Array("PRE_SNAPSHOT_HOOK", o.PreSnapshotHook);
        Array("POST_SNAPSHOT_HOOK", o.PostSnapshotHook);
        Line("CANARY_FILE", o.CanaryFilePath);
        return sb.ToString();
    }

    [Property(MaxTest = 200)]
    public Property Any_valid_options_written_as_a_file_read_back_the_same() =>
        Prop.ForAll(Options(), options =>
        {
            var path = dir.Sub("prod.conf");
            File.WriteAllText(path, Write(options));
            var result = ConfigLoader.LoadProducer(path, new Dictionary<string, string?>(), new Dictionary<string, string?>());
            return (result.IsValid && result.Options == options && result.Warnings.Count == 0)
                .Label($"{Write(options)}\n{string.Join("\n", result.Errors)}");
        });

    [Property(MaxTest = 200)]
    public Property Every_error_names_its_key_and_line() =>
        Prop.ForAll(Options(), Gen.Choose(0, 1000).ToArbitrary(), (options, pick) =>
        {
            var lines = Write(options).Split('\n');
            var candidates = lines.Select((l, i) => (l, i)).Where(x => x.l.Contains('=', StringComparison.Ordinal)).ToArray();
            var (line, index) = candidates[pick % candidates.Length];
            var key = line.Replace("export ", "", StringComparison.Ordinal).Split('=')[0];
            lines[index] = $"{key}=\"$(evil)\"";
            var path = dir.Sub("bad.conf");
            File.WriteAllText(path, string.Join('\n', lines));
            var result = ConfigLoader.LoadProducer(path, new Dictionary<string, string?>(), new Dictionary<string, string?>());
            return result.Options is null
                && result.Errors.Any(e => e.Key == key && e.Where == $"{path}:{index + 1}" && e.ToString().Contains(key, StringComparison.Ordinal));
        });
}

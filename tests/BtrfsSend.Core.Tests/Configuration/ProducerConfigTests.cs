using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Manifests;
using BtrfsSend.Core.Retention;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Configuration;

public sealed class ProducerConfigTests : IDisposable
{
    private static readonly Dictionary<string, string?> None = [];
    private readonly TempDir dir = new("cfg");

    public void Dispose() => dir.Dispose();

    private string Secret(string name, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = dir.Sub(name);
        File.WriteAllText(path, "secret\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private string Conf(string text)
    {
        var path = dir.Sub("prod.conf");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_seed_prod_conf_loads_unchanged()
    {
        var conf = Conf(SeedFiles.ProdConf);
        var passphrase = Secret("passphrase");

        var result = ConfigLoader.LoadProducer(conf, None, new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = passphrase });

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        var o = result.Options!;
        Assert.Equal("/mnt/btrfs-root", o.SourceTopDirPath);
        Assert.Equal("@rootfs", o.SourceSubvol);
        Assert.Equal("/mnt/btrfs-root/@backup-snapshots", o.SnapshotDirPath);
        Assert.Equal("prod-srv-rootfs", o.SnapshotPrefix);
        Assert.Equal("/var/lib/btrfs-send-backup/last-sent", o.StateFilePath);
        Assert.Equal("/var/lib/btrfs-send-backup/last-sent.lock", o.LockFilePath);
        Assert.Equal("/var/lib/btrfs-send-backup/last-sent.ledger", o.LedgerFilePath);
        Assert.Equal("btrfs-ingest@backup-srv", o.SshTarget);
        Assert.Equal(22, o.SshPort);
        Assert.Null(o.SshIdentityFilePath);
        Assert.Equal("prod-srv/rootfs", o.BackupSet.Value);
        Assert.Equal(passphrase, o.PassphraseFilePath);
        Assert.Equal(BackupMode.EncryptedStream, o.Mode);
        Assert.Equal(StreamEncryption.OpenPgpSymmetric, o.Encryption);
        Assert.Equal(32, o.FullIntervalDays);
        Assert.Equal(new RetentionPolicy(0, 7, 4, 12, 0, null), o.LocalKeep);
        Assert.Equal(["nginx", "php8.2-fpm", "mysql", "postgresql", "redis-server"], o.ServicesToQuiesce);
        Assert.Equal(StreamCompression.None, o.Compression);
        Assert.Empty(o.PreSnapshotHook);
        Assert.Null(o.LuksKeyFilePath);
    }

    [Theory]
    [InlineData(null, 300, null)]
    [InlineData("60", 60, null)]
    [InlineData("9", 0, "a whole number from 10 to 86400")]
    [InlineData("1h", 0, "a whole number from 10 to 86400")]
    public void QUIESCE_TIMEOUT_SECONDS_defaults_to_300_and_is_bounded(string? value, int expected, string? error)
    {
        var conf = Conf(SeedFiles.ProdConf);
        var passphrase = Secret("passphrase");
        var cli = new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = passphrase };
        if (value is not null)
        {
            cli["QUIESCE_TIMEOUT_SECONDS"] = value;
        }

        var result = ConfigLoader.LoadProducer(conf, None, cli);

        if (error is null)
        {
            Assert.True(result.IsValid, string.Join("\n", result.Errors));
            Assert.Equal(expected, result.Options!.QuiesceTimeoutSeconds);
        }
        else
        {
            var e = Assert.Single(result.Errors);
            Assert.Equal("QUIESCE_TIMEOUT_SECONDS", e.Key);
            Assert.Contains(error, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_seed_prod_conf_names_its_missing_passphrase_file_by_line()
    {
        var conf = Conf(SeedFiles.ProdConf);

        var result = ConfigLoader.LoadProducer(conf, None, None);

        Assert.Null(result.Options);
        var e = Assert.Single(result.Errors);
        Assert.Equal("PASSPHRASE_FILE", e.Key);
        Assert.Equal($"{conf}:12", e.Where);
        Assert.Contains("'/root/.config/btrfs-send-backup/passphrase' does not exist", e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{conf}:12: PASSPHRASE_FILE: ", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_seed_remote_btrfs_variant_loads_with_the_last_value_winning()
    {
        var conf = Conf(SeedFiles.ProdConf + SeedFiles.RemoteBtrfsLines);
        var luks = Secret("luks-key", UnixFileMode.UserRead);

        var result = ConfigLoader.LoadProducer(conf, None, new Dictionary<string, string?> { ["LUKS_KEY_FILE"] = luks });

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(BackupMode.RemoteBtrfs, result.Options!.Mode);
        Assert.Equal(36500, result.Options.FullIntervalDays);
        Assert.Equal(luks, result.Options.LuksKeyFilePath);
        Assert.Null(result.Options.PassphraseFilePath);
        Assert.Equal(StreamEncryption.None, result.Options.Encryption);
        Assert.Equal(["BACKUP_MODE", "FULL_INTERVAL_DAYS"], result.Warnings.Select(w => w.Key));
        Assert.All(result.Warnings, w => Assert.Contains("the last one wins", w.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, "0640")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherRead, "0404")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "0700")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite, "0666")]
    public void A_secret_file_readable_by_others_is_an_error_naming_its_mode(UnixFileMode mode, string shown)
    {
        var conf = Conf(SeedFiles.ProdConf);
        var passphrase = Secret("passphrase", mode);

        var result = ConfigLoader.LoadProducer(conf, None, new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = passphrase });

        var e = Assert.Single(result.Errors);
        Assert.Equal("command line", e.Where);
        Assert.Contains($"has mode {shown}; allowed: 0600 or 0400", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_readable_LUKS_key_is_an_error_in_remote_btrfs_mode()
    {
        var conf = Conf(SeedFiles.ProdConf + SeedFiles.RemoteBtrfsLines);
        var luks = Secret("luks-key", UnixFileMode.UserRead | UnixFileMode.GroupRead);

        var result = ConfigLoader.LoadProducer(conf, None, new Dictionary<string, string?> { ["LUKS_KEY_FILE"] = luks });

        Assert.Contains(result.Errors, e => e.Key == "LUKS_KEY_FILE" && e.Message.Contains("mode 0440", StringComparison.Ordinal));
    }

    [Fact]
    public void A_directory_as_passphrase_file_is_an_error()
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf), None, new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = dir.DirPath });

        Assert.Contains("is a directory", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_recipient_key_replaces_the_passphrase_with_a_warning()
    {
        var key = dir.Sub("backup.pub.asc");
        File.WriteAllText(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");
        var signing = dir.Sub("signing.key");
        File.WriteAllText(signing, "x");
        File.SetUnixFileMode(signing, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + $"RECIPIENT_KEY_FILE={key}\nSIGNING_KEY_FILE={signing}\n"), None, None);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(StreamEncryption.OpenPgpPubkey, result.Options!.Encryption);
        Assert.Equal(signing, result.Options.SigningKeyFilePath);
        Assert.Null(result.Options.PassphraseFilePath);
        Assert.Contains(result.Warnings, w => w.Key == "PASSPHRASE_FILE" && w.Message.Contains("ignored", StringComparison.Ordinal));
    }

    [Fact]
    public void A_recipient_key_without_a_signing_key_is_an_error_naming_keygen()
    {
        var key = dir.Sub("backup2.pub.asc");
        File.WriteAllText(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n");

        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + $"RECIPIENT_KEY_FILE={key}\n"), None, None);

        var error = Assert.Single(result.Errors);
        Assert.Equal("SIGNING_KEY_FILE", error.Key);
        Assert.Contains("keygen", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_config_file_is_an_error_naming_it()
    {
        var path = dir.Sub("nope.conf");

        var result = ConfigLoader.LoadProducer(path, None, None);

        Assert.Contains(result.Errors, e => e.Where == path && e.Message.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Key == "SOURCE_TOP" && e.Message.Contains("is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_is_reported_at_once_with_key_and_line()
    {
        var text = """
            SOURCE_TOP=relative/path
            SOURCE_SUBVOL=../escape
            SNAPSHOT_DIR=/snap
            SNAPSHOT_PREFIX=.hidden
            STATE_FILE=/state
            BACKUP_SSH_TARGET=-oProxyCommand=evil
            BACKUP_SSH_PORT=70000
            BACKUP_SET=Prod/Root
            BACKUP_MODE=plaintext
            FULL_INTERVAL_DAYS=0
            LOCAL_KEEP_DAILY=-1
            LOCAL_KEEP_WITHIN=forever
            SERVICES_TO_QUIESCE=(nginx --now)
            COMPRESSION=gzip
            PRE_SNAPSHOT_HOOK=(hook.sh)
            SSH_CIPHER=-oX
            BACKUP_SSH_PORT2=1

            """;
        var conf = Conf(text);

        var result = ConfigLoader.LoadProducer(conf, None, None);

        Assert.Null(result.Options);
        var byKey = result.Errors.ToDictionary(e => e.Key, e => e);
        var expected = new Dictionary<string, (int Line, string Text)>
        {
            ["SOURCE_TOP"] = (1, "'relative/path' is not an absolute path"),
            ["SOURCE_SUBVOL"] = (2, "'../escape' is not allowed"),
            ["SNAPSHOT_PREFIX"] = (4, "starts with a dot"),
            ["BACKUP_SSH_TARGET"] = (6, "'-oProxyCommand=evil' is not allowed"),
            ["BACKUP_SSH_PORT"] = (7, "a whole number from 1 to 65535"),
            ["BACKUP_SET"] = (8, "must start with a-z or 0-9"),
            ["BACKUP_MODE"] = (9, "allowed: encrypted-stream, remote-btrfs"),
            ["FULL_INTERVAL_DAYS"] = (10, "a whole number from 1 to"),
            ["LOCAL_KEEP_DAILY"] = (11, "'-1' is not allowed"),
            ["LOCAL_KEEP_WITHIN"] = (12, "'forever' is not a duration"),
            ["SERVICES_TO_QUIESCE"] = (13, "'--now' is not a unit name"),
            ["COMPRESSION"] = (14, "allowed: none, zstd"),
            ["PRE_SNAPSHOT_HOOK"] = (15, "'hook.sh' is not an absolute program path"),
            ["SSH_CIPHER"] = (16, "'-oX' is not allowed"),
        };
        foreach (var (key, (line, fragment)) in expected)
        {
            Assert.True(byKey.TryGetValue(key, out var e), $"no error for {key}: {string.Join("\n", result.Errors)}");
            Assert.Equal($"{conf}:{line}", e.Where);
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
            Assert.Contains("allowed", e.Message, StringComparison.Ordinal);
        }

        Assert.Contains(result.Errors, e => e.Key == "PASSPHRASE_FILE" && e.Message.Contains("is required", StringComparison.Ordinal));
        var w = Assert.Single(result.Warnings);
        Assert.Equal(("BACKUP_SSH_PORT2", $"{conf}:17"), (w.Key, w.Where));
        Assert.Contains("did you mean BACKUP_SSH_PORT?", w.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("KEEP_DAILY", "LOCAL_KEEP_DAILY")]
    [InlineData("SNAPSHOT_PREFIXX", "SNAPSHOT_PREFIX")]
    [InlineData("source_top", "SOURCE_TOP")]
    [InlineData("SERVICE_TO_QUIESCE", "SERVICES_TO_QUIESCE")]
    [InlineData("PASSPHRASEFILE", "PASSPHRASE_FILE")]
    public void An_unknown_key_is_a_warning_with_a_suggestion(string typo, string suggestion)
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + $"{typo}=1\n"), None, None);

        var w = Assert.Single(result.Warnings);
        Assert.Equal(typo, w.Key);
        Assert.EndsWith($"did you mean {suggestion}?", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_unlike_any_known_one_gets_no_suggestion()
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + "TOTALLY_UNRELATED_THING=1\n"), None, None);

        Assert.Equal("unknown key, ignored", Assert.Single(result.Warnings).Message);
    }

    [Fact]
    public void Environment_overrides_the_file_and_command_line_overrides_both()
    {
        var conf = Conf(SeedFiles.ProdConf);
        var passphrase = Secret("passphrase");
        var env = new Dictionary<string, string?>
        {
            ["LOCAL_KEEP_DAILY"] = "3",
            ["FULL_INTERVAL_DAYS"] = "10",
            ["SERVICES_TO_QUIESCE"] = "(nginx 'php8.2-fpm')",
            ["PASSPHRASE_FILE"] = passphrase,
            ["local_keep_weekly"] = "99",
            ["LOCAL_KEEP_MONTHLY"] = "",
            ["UNRELATED"] = "x",
        };
        var cli = new Dictionary<string, string?> { ["FULL_INTERVAL_DAYS"] = "5" };

        var result = ConfigLoader.LoadProducer(conf, env, cli);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(["nginx", "php8.2-fpm"], result.Options!.ServicesToQuiesce);
        Assert.Equal(new RetentionPolicy(0, 3, 4, 12, 0, null), result.Options.LocalKeep);
        Assert.Equal(5, result.Options.FullIntervalDays);
    }

    [Theory]
    [InlineData(null, 120)]
    [InlineData("7", 7)]
    public void IDLE_TIMEOUT_SECONDS_bounds_how_long_the_producer_waits_for_the_receiver(string? value, int expectedSeconds)
    {
        var env = new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = Secret("passphrase"), ["IDLE_TIMEOUT_SECONDS"] = value };

        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf), env, new Dictionary<string, string?>());

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), result.Options!.IdleTimeout);
    }

    [Fact]
    public void An_IDLE_TIMEOUT_SECONDS_of_zero_is_refused()
    {
        var env = new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = Secret("passphrase"), ["IDLE_TIMEOUT_SECONDS"] = "0" };

        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf), env, new Dictionary<string, string?>());

        Assert.Contains(result.Errors, e => e.Key == "IDLE_TIMEOUT_SECONDS");
    }

    [Fact]
    public void The_source_of_a_bad_value_is_named()
    {
        var conf = Conf(SeedFiles.ProdConf);
        var result = ConfigLoader.LoadProducer(
            conf,
            new Dictionary<string, string?> { ["LOCAL_KEEP_DAILY"] = "x", ["PASSPHRASE_FILE"] = Secret("passphrase") },
            new Dictionary<string, string?> { ["LOCAL_KEEP_WEEKLY"] = "y" });

        Assert.Equal("environment", result.Errors.Single(e => e.Key == "LOCAL_KEEP_DAILY").Where);
        Assert.Equal("command line", result.Errors.Single(e => e.Key == "LOCAL_KEEP_WEEKLY").Where);
    }

    [Fact]
    public void An_unknown_command_line_key_is_an_error()
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf), None, new Dictionary<string, string?> { ["FULL_INTERVAL"] = "3" });

        Assert.Contains(result.Errors, e => e.Where == "command line" && e.Message.Contains("did you mean FULL_INTERVAL_DAYS?", StringComparison.Ordinal));
    }

    [Fact]
    public void An_array_for_a_single_value_key_is_an_error()
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + "BACKUP_SET=(a b)\n"), None, None);

        Assert.Contains(result.Errors, e => e.Key == "BACKUP_SET" && e.Message.Contains("is a bash array", StringComparison.Ordinal));
    }

    [Fact]
    public void Hooks_are_argv_arrays()
    {
        var conf = Conf(SeedFiles.ProdConf + "PRE_SNAPSHOT_HOOK=(/usr/local/bin/flush --all 'a b')\nPOST_SNAPSHOT_HOOK=(/bin/true)\nCOMPRESSION=zstd\nSSH_CIPHER=aes128-gcm@openssh.com\nBACKUP_SSH_PORT=2222\nCANARY_FILE=.btrfs-send-canary\n");

        var result = ConfigLoader.LoadProducer(conf, None, new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = Secret("p") });

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(["/usr/local/bin/flush", "--all", "a b"], result.Options!.PreSnapshotHook);
        Assert.Equal(["/bin/true"], result.Options.PostSnapshotHook);
        Assert.Equal(StreamCompression.Zstd, result.Options.Compression);
        Assert.Equal("aes128-gcm@openssh.com", result.Options.SshCipher);
        Assert.Equal(2222, result.Options.SshPort);
        Assert.Equal(".btrfs-send-canary", result.Options.CanaryFilePath);
    }

    [Theory]
    [InlineData("", SendProtoSetting.V1, false)]
    [InlineData("SEND_PROTO=1\n", SendProtoSetting.V1, false)]
    [InlineData("SEND_PROTO=2\n", SendProtoSetting.V2, false)]
    [InlineData("SEND_PROTO=auto\nSEND_COMPRESSED_DATA=yes\n", SendProtoSetting.Auto, true)]
    [InlineData("SEND_PROTO=2\nSEND_COMPRESSED_DATA=no\n", SendProtoSetting.V2, false)]
    public void SEND_PROTO_defaults_to_1_and_SEND_COMPRESSED_DATA_to_no(string extra, SendProtoSetting proto, bool compressed)
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + extra), None, new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = Secret("p") });

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(proto, result.Options!.SendProto);
        Assert.Equal(compressed, result.Options.SendCompressedData);
    }

    [Theory]
    [InlineData("SEND_PROTO=3\n", "SEND_PROTO", "allowed: 1, 2, auto")]
    [InlineData("SEND_PROTO=v2\n", "SEND_PROTO", "allowed: 1, 2, auto")]
    [InlineData("SEND_COMPRESSED_DATA=true\n", "SEND_COMPRESSED_DATA", "allowed: yes or no")]
    [InlineData("SEND_COMPRESSED_DATA=yes\n", "SEND_COMPRESSED_DATA", "needs send protocol 2")]
    [InlineData("SEND_PROTO=1\nSEND_COMPRESSED_DATA=yes\n", "SEND_COMPRESSED_DATA", "SEND_PROTO=2 or auto")]
    public void Bad_send_protocol_settings_are_named_with_what_is_allowed(string extra, string key, string reason)
    {
        var result = ConfigLoader.LoadProducer(Conf(SeedFiles.ProdConf + extra), None, new Dictionary<string, string?> { ["PASSPHRASE_FILE"] = Secret("p") });

        Assert.False(result.IsValid);
        Assert.Contains(result.Errors, e => e.Key == key && e.Message.Contains(reason, StringComparison.Ordinal));
    }
}

using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Retention;
using BtrfsSend.TestSupport;

namespace BtrfsSend.Core.Tests.Configuration;

public sealed class ReceiverConfigTests : IDisposable
{
    private static readonly Dictionary<string, string?> None = [];
    private readonly TempDir dir = new("rcfg");

    public void Dispose() => dir.Dispose();

    private string Conf(string text)
    {
        var path = dir.Sub("btrfs-backup-receive");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void The_seed_etc_default_file_loads_unchanged()
    {
        var result = ConfigLoader.LoadReceiver(Conf(SeedFiles.ReceiverDefaults), None, None);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Empty(result.Warnings);
        var o = result.Options!;
        Assert.Equal("/dev/sdb1", o.LuksDevicePath);
        Assert.Equal("btrfs_backup", o.LuksName);
        Assert.Equal("/mnt/btrfs-backup", o.LuksMountDirPath);
        Assert.Equal("/mnt/btrfs-backup/received", o.ReceivedRootDirPath);
        Assert.Equal(new RetentionPolicy(0, 7, 4, 12, 0, null), o.Keep);
        Assert.Equal("/mnt/sdb1/btrfs-send-backups", o.BackupRootDirPath);
        Assert.Equal(TimeSpan.FromHours(6), o.LuksLease);
        Assert.Equal(1L << 40, o.MaxStreamSize);
        Assert.Equal(1L << 30, o.MinFreeSpace);
        Assert.Equal(TimeSpan.FromHours(24), o.MaxClockSkew);
        Assert.True(o.AllowGet);
        Assert.Null(o.BackupSet);
    }

    [Fact]
    public void The_seed_prune_cron_environment_works_without_a_file()
    {
        var result = ConfigLoader.LoadReceiver(dir.Sub("missing"), SeedFiles.PruneCronEnvironment, None);

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal("/mnt/sdb1/btrfs-send-backups", result.Options!.BackupRootDirPath);
        Assert.Equal(BackupSet.Parse("prod-srv/rootfs"), result.Options.BackupSet);
        Assert.Equal(new RetentionPolicy(0, 7, 4, 12, 0, null), result.Options.Keep);
    }

    [Fact]
    public void The_prune_cron_environment_overrides_the_file()
    {
        var env = new Dictionary<string, string?>(SeedFiles.PruneCronEnvironment) { ["KEEP_DAILY"] = "14", ["KEEP_MONTHLY"] = "" };

        var result = ConfigLoader.LoadReceiver(Conf(SeedFiles.ReceiverDefaults + "BACKUP_ROOT=/srv/other\n"), env, None);

        Assert.Equal("/mnt/sdb1/btrfs-send-backups", result.Options!.BackupRootDirPath);
        Assert.Equal(new RetentionPolicy(0, 14, 4, 12, 0, null), result.Options.Keep);
    }

    [Fact]
    public void No_keep_keys_means_an_empty_policy_that_deletes_nothing()
    {
        var result = ConfigLoader.LoadReceiver(null, None, None);

        Assert.True(result.IsValid);
        Assert.True(result.Options!.Keep.IsEmpty);
        Assert.Equal(RetentionPolicy.Empty, result.Options.Keep);
    }

    [Theory]
    [InlineData("KEEP_HOURLY=1", false)]
    [InlineData("KEEP_YEARLY=1", false)]
    [InlineData("KEEP_WITHIN=1s", false)]
    [InlineData("KEEP_DAILY=0", true)]
    [InlineData("KEEP_WITHIN=", true)]
    public void Any_rule_makes_the_policy_non_empty(string line, bool empty) =>
        Assert.Equal(empty, ConfigLoader.LoadReceiver(Conf(line + "\n"), None, None).Options!.Keep.IsEmpty);

    [Theory]
    [InlineData("KEEP_WITHIN=36h", 36 * 3600)]
    [InlineData("KEEP_WITHIN=7d", 7 * 86400)]
    [InlineData("KEEP_WITHIN=2w", 14 * 86400)]
    [InlineData("KEEP_WITHIN=90m", 90 * 60)]
    [InlineData("KEEP_WITHIN=45s", 45)]
    public void Durations_take_a_unit(string line, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ConfigLoader.LoadReceiver(Conf(line + "\n"), None, None).Options!.Keep.Within);

    [Theory]
    [InlineData("MAX_STREAM_SIZE=10", 10L)]
    [InlineData("MAX_STREAM_SIZE=4K", 4096L)]
    [InlineData("MAX_STREAM_SIZE=3M", 3L << 20)]
    [InlineData("MAX_STREAM_SIZE=2G", 2L << 30)]
    [InlineData("MAX_STREAM_SIZE=5T", 5L << 40)]
    public void Sizes_take_a_binary_suffix(string line, long bytes) =>
        Assert.Equal(bytes, ConfigLoader.LoadReceiver(Conf(line + "\n"), None, None).Options!.MaxStreamSize);

    [Theory]
    [InlineData("KEEP_DAILY=-1", "a whole number from 0 to")]
    [InlineData("KEEP_DAILY=7.5", "a whole number")]
    [InlineData("KEEP_DAILY= 7", "unquoted space")]
    [InlineData("KEEP_DAILY=99999999999", "a whole number")]
    [InlineData("KEEP_WEEKLY=four", "a whole number")]
    [InlineData("KEEP_WITHIN=36", "not a duration")]
    [InlineData("KEEP_WITHIN=36H", "not a duration")]
    [InlineData("KEEP_WITHIN=0s", "at least 1s")]
    [InlineData("KEEP_WITHIN=99999999999d", "not a duration")]
    [InlineData("LUKS_LEASE=30s", "at least 1m")]
    [InlineData("MAX_CLOCK_SKEW=-1h", "not a duration")]
    [InlineData("MAX_STREAM_SIZE=1P", "not a size")]
    [InlineData("MAX_STREAM_SIZE=1.5G", "not a size")]
    [InlineData("MAX_STREAM_SIZE=0", "at least 1 bytes")]
    [InlineData("MAX_STREAM_SIZE=99999999999T", "not a size")]
    [InlineData("MIN_FREE_SPACE=1g", "not a size")]
    [InlineData("ALLOW_GET=true", "allowed: yes or no")]
    [InlineData("BACKUP_ROOT=relative", "not an absolute path")]
    [InlineData("BACKUP_SET=../etc", "'..'")]
    [InlineData("LUKS_DEVICE=sdb1", "not an absolute path")]
    [InlineData("LUKS_NAME=-x", "device-mapper name")]
    [InlineData("LUKS_NAME='a b'", "device-mapper name")]
    [InlineData("LOG_FILE=log.txt", "not an absolute path")]
    [InlineData("CLIENT_Prod=prod/", "must start with a-z or 0-9")]
    [InlineData("CLIENT_prod=../", "is not a set prefix")]
    [InlineData("CLIENT_prod='prod//'", "is not a set prefix")]
    [InlineData("CLIENT_prod=/", "is not a set prefix")]
    public void Each_bad_value_is_an_error_naming_key_and_line(string line, string fragment)
    {
        var conf = Conf("# receiver\n" + line + "\n");

        var result = ConfigLoader.LoadReceiver(conf, None, None);

        Assert.Null(result.Options);
        var e = Assert.Single(result.Errors);
        Assert.Equal(line.Split('=')[0], e.Key);
        Assert.Equal($"{conf}:2", e.Where);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Contains("allowed", e.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{conf}:2: {e.Key}: ", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_receiver_key_is_a_warning_with_a_suggestion()
    {
        var result = ConfigLoader.LoadReceiver(Conf(SeedFiles.ReceiverDefaults + "KEEP_DAYLY=3\n"), None, None);

        Assert.True(result.IsValid);
        Assert.Equal("unknown key, ignored; did you mean KEEP_DAILY?", Assert.Single(result.Warnings).Message);
    }

    [Fact]
    public void Without_client_keys_every_set_is_allowed()
    {
        var o = ConfigLoader.LoadReceiver(null, None, None).Options!;

        Assert.True(o.IsSetAllowed(null, BackupSet.Parse("any/set")));
        Assert.True(o.IsSetAllowed("whoever", BackupSet.Parse("x")));
    }

    [Theory]
    [InlineData("prod-srv", "prod-srv/rootfs", true)]
    [InlineData("prod-srv", "prod-srv/var/lib", true)]
    [InlineData("prod-srv", "prod-srv", false)]
    [InlineData("prod-srv", "prod-srv-evil/rootfs", false)]
    [InlineData("prod-srv", "shared", true)]
    [InlineData("prod-srv", "shared/x", false)]
    [InlineData("prod-srv", "web/rootfs", false)]
    [InlineData("web", "web/rootfs", true)]
    [InlineData("web", "prod-srv/rootfs", false)]
    [InlineData("nobody", "prod-srv/rootfs", false)]
    [InlineData("empty", "prod-srv/rootfs", false)]
    [InlineData(null, "prod-srv/rootfs", false)]
    public void Clients_only_reach_their_prefixes(string? client, string set, bool allowed)
    {
        var conf = Conf("CLIENT_prod-srv='prod-srv/ shared'\nCLIENT_web=(web/)\n");
        var result = ConfigLoader.LoadReceiver(conf, new Dictionary<string, string?> { ["CLIENT_empty"] = "" }, new Dictionary<string, string?> { ["CLIENT_empty"] = "" });

        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        Assert.Equal(allowed, result.Options!.IsSetAllowed(client, BackupSet.Parse(set)));
    }

    [Fact]
    public void A_client_with_no_prefixes_is_warned_about()
    {
        var result = ConfigLoader.LoadReceiver(Conf("CLIENT_x=\n"), None, None);

        Assert.Contains("allowed no set", Assert.Single(result.Warnings).Message, StringComparison.Ordinal);
        Assert.False(result.Options!.IsSetAllowed("x", BackupSet.Parse("x")));
    }
}

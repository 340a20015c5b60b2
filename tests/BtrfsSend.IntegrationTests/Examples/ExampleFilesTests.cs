using BtrfsSend.Core.Configuration;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Examples;

/// <summary>The files in examples/ are what users copy: they must load without a single error or warning.</summary>
public sealed class ExampleFilesTests
{
    private static readonly IReadOnlyDictionary<string, string?> NoOverrides = new Dictionary<string, string?>();

    [Fact]
    public void The_receiver_defaults_example_loads_cleanly_with_the_documented_values()
    {
        var result = ConfigLoader.LoadReceiver(RepoPaths.Of("examples", "backup-srv", "btrfs-backup-receive"), NoOverrides, NoOverrides);

        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Equal("/mnt/sdb1/btrfs-send-backups", result.Options!.BackupRootDirPath);
        Assert.Equal(7, result.Options.Keep.Daily);
        Assert.Equal(10L << 30, result.Options.MinFreeSpace);
        Assert.True(result.Options.AllowGet);
    }

    [RealFact("visudo")]
    public async Task The_sudoers_example_is_valid_sudoers_syntax()
    {
        var result = await Run.TryAsync("visudo", "-cqf", RepoPaths.Of("examples", "backup-srv", "sudoers.d-btrfs-ingest"));

        Assert.True(result.IsSuccess, result.StandardErrorTail);
    }

    [Fact]
    public void The_authorized_keys_example_forces_serve_with_the_command_after_a_double_dash()
    {
        var line = File.ReadAllLines(RepoPaths.Of("examples", "backup-srv", "authorized_keys")).Single(l => l.StartsWith("restrict", StringComparison.Ordinal));

        Assert.Contains("command=\"sudo -n /usr/local/sbin/btrfs-backup-receive serve --client prod-srv -- \\\"$SSH_ORIGINAL_COMMAND\\\"\"", line, StringComparison.Ordinal);
        Assert.Contains("from=", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prod.conf", "encrypted-stream")]
    [InlineData("prod-remote-btrfs.conf", "remote-btrfs")]
    public void The_producer_examples_parse_with_only_missing_key_files_reported(string file, string mode)
    {
        var result = ConfigLoader.LoadProducer(RepoPaths.Of("examples", "prod-srv", file), NoOverrides, NoOverrides);

        // The key files the examples name do not exist on a test machine: that, and only that, is an error.
        Assert.All(result.Errors, e => Assert.Contains(e.Key, new[] { "PASSPHRASE_FILE", "LUKS_KEY_FILE", "BACKUP_SSH_IDENTITY_FILE" }));
        Assert.NotEmpty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Contains(mode, File.ReadAllText(RepoPaths.Of("examples", "prod-srv", file)), StringComparison.Ordinal);
    }
}

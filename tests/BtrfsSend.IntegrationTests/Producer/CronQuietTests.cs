using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// Quiet on success under cron: the real programs started as cron starts them (no terminal, an
/// environment of PATH=/usr/bin:/bin and HOME only) print exactly one line on success (backup,
/// prune, check, the restore drill), nothing with --quiet, and every step again with -v.
/// </summary>
public sealed class CronQuietTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_cron_run_of_backup_prune_check_and_the_restore_drill_prints_one_line_each_on_success()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a b)\nCANARY_FILE=.btrfs-send-canary");
        world.InstallFakeSystemctl("a", "b");
        await WithoutRepeatedKeysAsync(world);
        await File.AppendAllTextAsync(world.ReceiverConfigFilePath, "KEEP_DAILY=7\n");

        var full = await CronAsync(world, [.. world.Sshd.Launcher, ProgramBinaries.Producer, "--config", world.ConfigFilePath]);
        await Task.Delay(1100);
        var incremental = await CronAsync(world, [.. world.Sshd.Launcher, ProgramBinaries.Producer, "--config", world.ConfigFilePath]);
        var prune = await CronAsync(world, [ProgramBinaries.Receiver, "prune", "--config", world.ReceiverConfigFilePath, "--set", "prod-srv/rootfs"]);
        var check = await CronAsync(world, [ProgramBinaries.Receiver, "check", "--config", world.ReceiverConfigFilePath]);
        var scratch = await world.Prod.CreateSubvolumeAsync("@restore-drill");
        var drill = await CronAsync(world, [.. world.Sshd.Launcher, ProgramBinaries.Producer, "verify", "--restore-test", "--config", world.ConfigFilePath, "--scratch", scratch]);

        Assert.True(full.ExitCode == 0, full.Output);
        Assert.Matches(@"^\S+ \[INF\] backup OK: set prod-srv/rootfs full prod-srv-rootfs-\S+, \d+ bytes \(send protocol 1\) sent", Assert.Single(full.Lines));
        Assert.True(incremental.ExitCode == 0, incremental.Output);
        Assert.Matches(@"\[INF\] backup OK: set prod-srv/rootfs incremental ", Assert.Single(incremental.Lines));
        Assert.True(prune.ExitCode == 0, prune.Output);
        Assert.Matches(@"\[INF\] prune OK: 1 set\(s\), kept 2, deleted 0, freed 0 bytes$", Assert.Single(prune.Lines));
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.StartsWith("BTRFS-BACKUP OK", Assert.Single(check.Lines), StringComparison.Ordinal);
        Assert.True(drill.ExitCode == 0, drill.Output);
        Assert.Matches(@"^OK: restore test of prod-srv/rootfs/prod-srv-rootfs-\S+ \(2 links, .*\) restored and canary matched in ", Assert.Single(drill.Lines));
        Assert.Equal(["a", "b"], world.RunningServices());
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task Quiet_prints_nothing_verbose_brings_every_step_back_and_a_warning_always_prints()
    {
        await using var world = await BackupWorld.CreateAsync("SERVICES_TO_QUIESCE=(a typo)");
        world.InstallFakeSystemctl("a");
        await WithoutRepeatedKeysAsync(world);

        var quiet = await CronAsync(world, [.. world.Sshd.Launcher, ProgramBinaries.Producer, "--quiet", "--config", world.ConfigFilePath], "BTRFS_SEND_LOG_LEVEL=info");
        await Task.Delay(1100);
        var verbose = await CronAsync(world, [.. world.Sshd.Launcher, ProgramBinaries.Producer, "run", "-v", "--config", world.ConfigFilePath]);
        world.Systemctl.Unknown("typo");
        await Task.Delay(1100);
        var warned = await CronAsync(world, [.. world.Sshd.Launcher, ProgramBinaries.Producer, "--config", world.ConfigFilePath]);

        Assert.True(quiet.ExitCode == 0, quiet.Output);
        Assert.Empty(quiet.Lines);
        Assert.True(verbose.ExitCode == 0, verbose.Output);
        Assert.Contains(verbose.Lines, l => l.EndsWith("[INF] stopped a", StringComparison.Ordinal));
        Assert.Contains(verbose.Lines, l => l.Contains("[INF] run phases: ", StringComparison.Ordinal));
        Assert.True(warned.ExitCode == 0, warned.Output);
        Assert.Equal(2, warned.Lines.Count);
        Assert.Contains("[WRN] systemd does not know service typo (is-active: unknown)", warned.Lines[0], StringComparison.Ordinal);
        Assert.Contains("[INF] backup OK: ", warned.Lines[1], StringComparison.Ordinal);
    }

    /// <summary>The world's prod.conf sets SERVICES_TO_QUIESCE twice, which is rightly a warning: once here.</summary>
    private static async Task WithoutRepeatedKeysAsync(BackupWorld world)
    {
        var lines = await File.ReadAllLinesAsync(world.ConfigFilePath);
        await File.WriteAllLinesAsync(world.ConfigFilePath, lines.Where(l => l.Trim() != "SERVICES_TO_QUIESCE=()"));
    }

    /// <summary>
    /// Runs argv as cron would: <c>env -i PATH=... HOME=/root</c> (the fake systemctl's dir first, as
    /// an admin's crontab PATH line would put /usr/local/sbin), stdout and stderr to pipes.
    /// </summary>
    private static async Task<(int ExitCode, IReadOnlyList<string> Lines, string Output)> CronAsync(BackupWorld world, IReadOnlyList<string> argv, params string[] extraEnvironment)
    {
        var output = new System.Text.StringBuilder();
        var result = await Cli.Wrap("env")
            .WithArguments(["-i", $"PATH={world.FakeBinDirPath}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/root", "LANG=C", .. extraEnvironment, .. argv])
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(output))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync();
        var text = output.ToString();
        return (result.ExitCode, text.Split('\n', StringSplitOptions.RemoveEmptyEntries), text);
    }
}

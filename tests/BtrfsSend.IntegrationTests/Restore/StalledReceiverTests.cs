using System.Diagnostics;
using System.Globalization;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Restore;

/// <summary>
/// A backup server that stops talking: behind a real sshd, a stand-in for the receiver answers
/// what it must and then sleeps. The producer gives up after IDLE_TIMEOUT_SECONDS with one line
/// and the transfer-failed exit code instead of hanging its cron run forever.
/// </summary>
public sealed class StalledReceiverTests
{
    private const string Set = "prod-srv/rootfs";
    private const string Snapshot = "rootfs-20260101T000000Z";

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_receiver_that_never_answers_list_is_given_up_on_after_IDLE_TIMEOUT_SECONDS()
    {
        using var dir = new TempDir("stalled-list");
        var outcome = await RunAgainstStallingReceiverAsync(dir, stallOnList: true, "restore", "--list", "--set", Set);

        Assert.True(outcome.ExitCode == 6, outcome.ToString());
        Assert.Contains("did not answer 'list' within 2 seconds (IDLE_TIMEOUT_SECONDS)", outcome.Stderr, StringComparison.Ordinal);
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(30), outcome.ToString());
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_receiver_that_stalls_in_the_middle_of_get_is_given_up_on_after_IDLE_TIMEOUT_SECONDS()
    {
        using var dir = new TempDir("stalled-get");
        var outcome = await RunAgainstStallingReceiverAsync(dir, stallOnList: false, "verify", "--set", Set, "--snapshot", Snapshot, "--passphrase-file", dir.Sub("passphrase"));

        Assert.True(outcome.ExitCode == 6, outcome.ToString());
        Assert.True((outcome.Stdout + outcome.Stderr).Contains("sent nothing for 2 seconds (idle timeout)", StringComparison.Ordinal), outcome.ToString());
        Assert.True(outcome.Elapsed < TimeSpan.FromSeconds(30), outcome.ToString());
    }

    private static async Task<Outcome> RunAgainstStallingReceiverAsync(TempDir dir, bool stallOnList, params string[] args)
    {
        // Answers hello; answers list with one stored full stream (or goes quiet); answers get with the start of a frame and then goes quiet.
        var list = stallOnList ? "exec sleep 60" : $"echo \"{Snapshot} full - 1000 2026-01-01T00:00:05Z\"";
        var stub = dir.Sub("stalling-receiver");
        await File.WriteAllTextAsync(stub, $$"""
            #!/bin/sh
            # argv: serve -- "$SSH_ORIGINAL_COMMAND"
            case "$3" in
              list*) {{list}} ;;
              hello) echo "btrfs-backup-receive 1.0.0 proto=1 modes=encrypted-stream" ;;
              get*) printf 'BSF1'; exec sleep 60 ;;
              *) exec sleep 60 ;;
            esac

            """);
        File.SetUnixFileMode(stub, (UnixFileMode)0b111_101_101);
        // sudo runs the stub as root from a directory only root may write: the same as the real receiver.
        File.SetUnixFileMode(dir.DirPath, (UnixFileMode)0b111_101_101);
        await using var sshd = await SshdFixture.StartAsync(stub);
        Directory.CreateDirectory(dir.Sub("source"));
        Directory.CreateDirectory(dir.Sub("snapshots"));
        Directory.CreateDirectory(dir.Sub("state"));
        await File.WriteAllTextAsync(dir.Sub("passphrase"), "not used\n");
        File.SetUnixFileMode(dir.Sub("passphrase"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = dir.Sub("prod.conf");
        await File.WriteAllTextAsync(config, $"""
            SOURCE_TOP={dir.Sub("source")}
            SOURCE_SUBVOL=@rootfs
            SNAPSHOT_DIR={dir.Sub("snapshots")}
            SNAPSHOT_PREFIX=rootfs
            STATE_FILE={dir.Sub("state", "last-sent")}
            BACKUP_SSH_TARGET={sshd.Target}
            BACKUP_SSH_PORT={sshd.Port.ToString(CultureInfo.InvariantCulture)}
            BACKUP_SSH_IDENTITY_FILE={sshd.ClientKeyFilePath}
            BACKUP_SET={Set}
            PASSPHRASE_FILE={dir.Sub("passphrase")}
            BACKUP_MODE=encrypted-stream
            SERVICES_TO_QUIESCE=()
            IDLE_TIMEOUT_SECONDS=2
            SSH_OPTIONS=(HostKeyAlias={sshd.HostKeyAlias} StrictHostKeyChecking=yes UserKnownHostsFile={sshd.KnownHostsFilePath} GlobalKnownHostsFile=/dev/null)

            """);

        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        var watch = Stopwatch.StartNew();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var result = await Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments([.. args, "--config", config])
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync(limit.Token);
        return new Outcome(result.ExitCode, stdout.ToString(), stderr.ToString(), watch.Elapsed);
    }

    private sealed record Outcome(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);
}

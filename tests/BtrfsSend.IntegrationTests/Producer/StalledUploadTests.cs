using System.Diagnostics;
using System.Globalization;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// A backup server that takes the whole upload and never answers: behind a real sshd, a
/// stand-in for the receiver answers hello and list, reads the stream and then sleeps. A real
/// run (loop btrfs, real snapshot, real encryption) gives up after IDLE_TIMEOUT_SECONDS with one
/// line and the transfer-failed exit code, and records nothing as done.
/// </summary>
public sealed class StalledUploadTests
{
    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_receiver_that_reads_the_upload_and_never_answers_is_given_up_on_and_nothing_is_recorded_as_done()
    {
        using var dir = new TempDir("stalled-upload");
        var stub = dir.Sub("stalling-receiver");
        await File.WriteAllTextAsync(stub, """
            #!/bin/sh
            # argv: serve -- "$SSH_ORIGINAL_COMMAND"
            case "$3" in
              session) echo "ERR bad-command unknown command 'session'"; exit 5 ;;
              hello) echo "btrfs-send-receiver 1.0.0 proto=1 modes=encrypted-stream" ;;
              list*) ;;
              receive-stream*) cat > /dev/null; exec sleep 60 ;;
              *) exec sleep 60 ;;
            esac

            """);
        File.SetUnixFileMode(stub, (UnixFileMode)0b111_101_101);
        // sudo runs the stub as root from a directory only root may write: the same as the real receiver.
        File.SetUnixFileMode(dir.DirPath, (UnixFileMode)0b111_101_101);
        await using var sshd = await SshdFixture.StartAsync(stub);
        await using var prod = await BtrfsLoopFixture.CreateAsync("stallprod");
        BtrfsLoopFixture.PopulateSample(await prod.CreateSubvolumeAsync("@rootfs"));
        Directory.CreateDirectory(prod.PathOf("@backup-snapshots"));
        using var gpg = new GpgFixture();
        var state = dir.Sub("state", "last-sent");
        var config = dir.Sub("prod.conf");
        await File.WriteAllTextAsync(config, $"""
            SOURCE_TOP={prod.MountDirPath}
            SOURCE_SUBVOL=@rootfs
            SNAPSHOT_DIR={prod.PathOf("@backup-snapshots")}
            SNAPSHOT_PREFIX=prod-srv-rootfs
            STATE_FILE={state}
            BACKUP_SSH_TARGET={sshd.Target}
            BACKUP_SSH_PORT={sshd.Port.ToString(CultureInfo.InvariantCulture)}
            BACKUP_SSH_IDENTITY_FILE={sshd.ClientKeyFilePath}
            BACKUP_SET=prod-srv/rootfs
            PASSPHRASE_FILE={gpg.PassphraseFilePath}
            BACKUP_MODE=encrypted-stream
            SERVICES_TO_QUIESCE=()
            IDLE_TIMEOUT_SECONDS=10
            SSH_OPTIONS=(HostKeyAlias={sshd.HostKeyAlias} StrictHostKeyChecking=yes UserKnownHostsFile={sshd.KnownHostsFilePath} GlobalKnownHostsFile=/dev/null)

            """);

        var stdout = new System.Text.StringBuilder();
        var stderr = new System.Text.StringBuilder();
        var watch = Stopwatch.StartNew();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var result = await Cli.Wrap(ProgramBinaries.Producer)
            .WithArguments(["run", "--config", config])
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .ExecuteAsync(limit.Token);
        var output = stdout.ToString() + stderr;

        Assert.True(result.ExitCode == 6, output);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"{watch.Elapsed}: {output}");
        Assert.Contains(
            $"the receiver at {sshd.Target} did not answer 'receive-stream' within 10 seconds after the whole stream was sent (IDLE_TIMEOUT_SECONDS); the upload was abandoned and is not recorded as done (the next run sends again)",
            output, StringComparison.Ordinal);
        Assert.False(File.Exists(state), "STATE_FILE must not name an unacknowledged upload");
        Assert.False(File.Exists(state + ".ledger"), "the ledger records acknowledged uploads only");
        Assert.Empty(Directory.GetFileSystemEntries(prod.PathOf("@backup-snapshots")));
    }
}

using System.Buffers.Binary;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Transport;
using BtrfsSend.IntegrationTests.RemoteBtrfs;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Connection;
using BtrfsSend.TestSupport;
using Serilog.Core;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// One connection per run (docs/protocol.md, "Sessions"), counted where it cannot be faked: sshd's
/// own log line per accepted key. A backup run in either mode makes one; a producer that sends single
/// verbs (an older one) still works against this receiver; and this producer falls back to one
/// connection per request against a receiver that refuses <c>session</c>, as receivers before it do.
/// </summary>
public sealed class SessionConnectionTests
{
    private static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg")]
    public async Task A_full_and_an_incremental_backup_in_encrypted_stream_mode_make_one_ssh_connection_each()
    {
        await using var world = await BackupWorld.CreateAsync();

        var full = await world.RunProducerAsync();
        var afterFull = Connections(world.Sshd);
        await File.WriteAllTextAsync(Path.Combine(world.RootfsPath, "etc/hostname"), "changed\n");
        var incremental = await world.RunProducerAsync();

        Assert.True(full.ExitCode == 0, full.Stderr);
        Assert.True(incremental.ExitCode == 0, incremental.Stderr);
        Assert.Equal(1, afterFull);
        Assert.Equal(2, Connections(world.Sshd));
        Assert.Equal(2, world.StoredStreams().Count);
        Assert.Contains("incremental", incremental.Stderr, StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_backup_in_remote_btrfs_mode_makes_one_ssh_connection_from_open_luks_to_close_luks()
    {
        await using var world = await RemoteBtrfsWorld.CreateAsync();

        var run = await world.RunProducerAsync();

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(1, Connections(world.Sshd));
        Assert.Single(await world.ReceivedNamesAsync());
        Assert.False(File.Exists(world.LeaseFilePath), "the volume was closed in the same session");
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_producer_that_sends_single_verbs_still_backs_up_to_this_receiver()
    {
        using var dir = new TempDir("single-verbs");
        await using var sshd = await StartReceiverAsync(dir, asOlderReceiver: false);
        await using var client = Client(sshd);

        var hello = await client.HelloAsync();
        var before = await client.ListAsync(Set);
        await UploadAsync(client, dir);
        var after = await client.ListAsync(Set);

        Assert.True(hello.OffersSession);
        Assert.Empty(before);
        Assert.Single(after);
        Assert.Equal(4, Connections(sshd));
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Against_a_receiver_older_than_sessions_the_producer_uses_one_connection_per_request()
    {
        using var dir = new TempDir("older-receiver");
        await using var sshd = await StartReceiverAsync(dir, asOlderReceiver: true);
        await using var client = Client(sshd);
        var log = new LogLines();

        var hello = await client.OpenSessionAsync(log.Logger);
        var listed = await client.ListAsync(Set);
        await UploadAsync(client, dir);
        await client.EndSessionAsync();

        Assert.Equal(HelloLine.CurrentProtocol, hello.Protocol);
        Assert.Empty(listed);
        Assert.Single(await client.ListAsync(Set));
        Assert.Equal(5, Connections(sshd)); // the refused session, hello, list, the upload, the last list
        Assert.Contains("does not serve sessions (it refused the command 'session')", log.Text, StringComparison.Ordinal);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_session_carries_hello_list_and_the_upload_on_one_connection()
    {
        using var dir = new TempDir("one-session");
        await using var sshd = await StartReceiverAsync(dir, asOlderReceiver: false);
        await using var client = Client(sshd);

        var hello = await client.OpenSessionAsync(Logger.None);
        var listed = await client.ListAsync(Set);
        await UploadAsync(client, dir);
        await client.EndSessionAsync();

        Assert.True(hello.OffersSession);
        Assert.Empty(listed);
        Assert.Equal(1, Connections(sshd));
        Assert.Single(await client.ListAsync(Set)); // the session is over: this one has its own connection
        Assert.Equal(2, Connections(sshd));
    }

    /// <summary>Connections sshd accepted so far: its log has one "Accepted publickey" line per connection (LogLevel VERBOSE).</summary>
    private static int Connections(SshdFixture sshd)
        => File.ReadAllLines(sshd.LogFilePath).Count(l => l.Contains("Accepted publickey", StringComparison.Ordinal));

    /// <summary>
    /// The real receiver behind sshd; as an older receiver, behind a forced command that refuses the
    /// command <c>session</c> exactly as a receiver without the verb does, and runs the receiver for the rest.
    /// </summary>
    private static async Task<SshdFixture> StartReceiverAsync(TempDir dir, bool asOlderReceiver)
    {
        var store = dir.Sub("store");
        Directory.CreateDirectory(store);
        var config = dir.Sub("receiver.conf");
        await File.WriteAllTextAsync(config, $"BACKUP_ROOT={store}\nMIN_FREE_SPACE=0\n");
        var program = ProgramBinaries.Receiver;
        if (asOlderReceiver)
        {
            program = dir.Sub("older-receiver");
            await File.WriteAllTextAsync(program, $$"""
                #!/bin/sh
                # argv: serve --config FILE -- "$SSH_ORIGINAL_COMMAND"
                for last; do :; done
                if [ "$last" = session ]; then
                  echo "ERR bad-command unknown command 'session'; allowed: hello | receive-stream <set> <snapshot> full [<declarations>] | ..."
                  exit 5
                fi
                exec {{ProgramBinaries.Receiver}} "$@"

                """);
            File.SetUnixFileMode(program, (UnixFileMode)0b111_101_101);
        }

        // sudo runs the program as root from a directory only root may write, like the real receiver.
        File.SetUnixFileMode(dir.DirPath, (UnixFileMode)0b111_101_101);
        return await SshdFixture.StartAsync(program, ["--config", config]);
    }

    private static ReceiverClient Client(SshdFixture sshd) => new(
        new SshArgv
        {
            Target = sshd.Target,
            Port = sshd.Port,
            IdentityFilePath = sshd.ClientKeyFilePath,
            ExtraOptions = [$"HostKeyAlias={sshd.HostKeyAlias}", "StrictHostKeyChecking=yes", $"UserKnownHostsFile={sshd.KnownHostsFilePath}", "GlobalKnownHostsFile=/dev/null"],
        },
        new ToolRunner())
    { IdleTimeout = TimeSpan.FromSeconds(60) };

    /// <summary>The real send pipeline, encrypted, with a small valid send stream from <c>cat</c> in place of <c>btrfs send</c>.</summary>
    private static async Task UploadAsync(ReceiverClient client, TempDir dir)
    {
        var stream = dir.Sub("stream");
        var ctransid = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(ctransid, 7);
        await File.WriteAllBytesAsync(stream, SendStreamForge.Build(1,
        [
            new SendStreamForge.Command(1, [(SendStreamForge.AttrPath, "rootfs"u8.ToArray()), (1, Guid.NewGuid().ToByteArray()), (2, ctransid)]),
            new SendStreamForge.Command(SendStreamForge.End, []),
        ]));
        var snapshot = SnapshotName.Create("prod-srv-rootfs", DateTimeOffset.UtcNow);
        await new SendPipeline(client, Logger.None).RunAsync(["cat", stream], new ReceiveStreamRequest(Set, snapshot, isIncremental: false, parent: null),
            EncryptionKeys.FromPassphrase("test passphrase"u8.ToArray()));
    }
}

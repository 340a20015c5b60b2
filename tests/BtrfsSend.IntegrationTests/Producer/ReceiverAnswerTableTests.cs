using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using BtrfsSend.Core.Crypto;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Producer.Backup;
using BtrfsSend.TestSupport;
using Serilog.Core;

namespace BtrfsSend.IntegrationTests.Producer;

/// <summary>
/// The producer's receiver client against garbage answers to hello, list and an upload (NUL,
/// control characters, CRLF, an overlong line, huge numbers, a cut line, extra lines, another
/// protocol version, a stall), each printed over a real ssh connection by a forced-command
/// script (<see cref="CannedReceiver"/>): every one ends in one clear, printable error line of
/// the producer's own exception types, never an internal crash and never a hang.
/// </summary>
public sealed class ReceiverAnswerTableTests(CannedReceiver canned) : IClassFixture<CannedReceiver>
{
    private const string Hello = "btrfs-send-receiver 1.0.0 proto=1 modes=encrypted-stream";
    private const string Entry = "prod-srv-rootfs-20260101T000000Z full - 1000 2026-01-01T00:00:05Z";
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(2);

    // Long enough for ssh and sudo on a loaded machine: only the stall tests may time out.
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(60);
    private static readonly string Sha = new('a', 64);
    private static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");

    public static TheoryData<string, string, string> HelloAnswers() => new()
    {
        { "nothing", "", "did not answer hello as btrfs-backup-receive does ('')" },
        { "a NUL", Hello + "\0\n", @"modes=encrypted-stream\x00')" },
        { "control characters", "\u001b[2J\u001b]0;pwned\u0007" + Hello + "\n", @"does ('\x1b[2J\x1b]0;pwned\x07btrfs-send-receiver" },
        { "CRLF", Hello + "\r\n", @"modes=encrypted-stream\x0d')" },
        { "an overlong line", "btrfs-send-receiver " + new string('9', 100_000) + " proto=1 modes=encrypted-stream\n", "did not answer hello as btrfs-backup-receive does ('btrfs-send-receiver 9999" },
        { "a huge number", "btrfs-send-receiver 1.0.0 proto=99999999999999999999 modes=encrypted-stream\n", "did not answer hello as btrfs-backup-receive does" },
        { "a cut line", "btrfs-send-receiver 1.0.0 proto=1 mo", "did not answer hello as btrfs-backup-receive does ('btrfs-send-receiver 1.0.0 proto=1 mo')" },
        { "extra lines", Hello + "\n" + Hello + "\n", "answered hello with 2 lines, btrfs-backup-receive answers one" },
        { "another protocol version", "btrfs-send-receiver 9.9.9 proto=2 modes=encrypted-stream\n", "speaks protocol 2, this producer speaks 1; upgrade one of them" },
        { "an ERR with control characters", "ERR internal \u001b[31mboom\n", "did not answer hello as btrfs-backup-receive does ('ERR internal \\x1b[31mboom')" },
    };

    public static TheoryData<string, string, string> ListAnswers() => new()
    {
        { "a NUL", Entry + "\0\n", "has a line this producer cannot read (line 1)" },
        { "control characters", "\u001b[2J" + Entry + "\n", "has a line this producer cannot read (line 1)" },
        { "CRLF", Entry + "\r\n", "has a line this producer cannot read (line 1)" },
        { "an overlong line", Entry + " " + new string('x', 100_000) + "\n", "has a line longer than 1024 characters (line 1)" },
        { "a huge number", "prod-srv-rootfs-20260101T000000Z full - 99999999999999999999999 2026-01-01T00:00:05Z\n", "has a line this producer cannot read (line 1)" },
        { "a cut line", "prod-srv-rootfs-20260101T000000Z full - 10", "has a line this producer cannot read (line 1)" },
        { "a duplicate line", Entry + "\n" + Entry + "\n", "names snapshot prod-srv-rootfs-20260101T000000Z twice (line 2)" },
        { "an extra line", Entry + "\nhello world\n", "has a line this producer cannot read (line 2)" },
    };

    public static TheoryData<string, string, string> UploadAnswers() => new()
    {
        { "nothing", "", "the receiver exited 0 but did not answer OK ('')" },
        { "a NUL", "OK\0\n", @"did not answer OK ('OK\x00')" },
        { "control characters", "\u001b[2JOK " + Sha + " 1\n", @"did not answer OK ('\x1b[2JOK aaaa" },
        { "CRLF", "OK " + Sha + " 1\r\n", @"did not answer OK ('OK aaaa" },
        { "an overlong line", "OK " + new string('f', 100_000) + "\n", "did not answer OK ('ffff" }, // the pipeline keeps the answer's last few KiB
        { "a huge number", "OK " + Sha + " 99999999999999999999999\n", "did not answer OK ('OK aaaa" },
        { "a cut line", "OK aaaa", "did not answer OK ('OK aaaa')" },
        { "extra lines", "OK " + Sha + " 1\nOK " + Sha + " 1\n", "the receiver answered 2 lines, not one OK line" },
        { "an OK for other bytes", "OK " + Sha + " 1\n", $"the receiver stored 1 bytes with SHA-256 {new string('a', 64)}, but " },
        { "an ERR with control characters", "ERR exists \u001b[31mgone\n", @"did not answer OK ('ERR exists \x1b[31mgone')" },
        { "an ERR", "ERR exists already stored\n", "the receiver refused 'receive prod-srv/rootfs" },
    };

    private const string SessionHello = Hello + " session=1\n";
    private const string HelloDone = SessionHello + "DONE hello\n";

    public static TheoryData<string, string, string> SessionHelloAnswers() => new()
    {
        { "nothing", "", "ended the session without finishing its answer to 'hello' (no DONE line); it said nothing" },
        { "no DONE line", SessionHello, "ended the session without finishing its answer to 'hello'" },
        { "a DONE for another verb", SessionHello + "DONE list\n", "ended its answer to 'hello' with 'DONE list'" },
        { "a NUL", Hello + " session=1\0\nDONE hello\n", @"did not answer hello as btrfs-backup-receive does ('btrfs-send-receiver 1.0.0 proto=1 modes=encrypted-stream session=1\x00')" },
        { "CRLF", Hello + " session=1\r\nDONE hello\r\n", "ended the session without finishing its answer to 'hello'" },
        { "an overlong line", "btrfs-send-receiver " + new string('9', 100_000) + " proto=1 modes=encrypted-stream\n", "answered 'hello' with a line longer than 2048 bytes" },
        { "a cut line", "btrfs-send-receiver 1.0.0 proto=1 mo", "ended the session inside a line of its answer to 'hello' ('btrfs-send-receiver 1.0.0 proto=1 mo')" },
        { "extra lines", SessionHello + SessionHello + "DONE hello\n", "answered hello with 2 lines, btrfs-backup-receive answers one" },
        { "no session token", Hello + "\nDONE hello\n", "answered hello inside a session but does not offer sessions" },
        { "an ERR", "ERR store-unusable BACKUP_ROOT is gone\n", "the receiver cannot store backups: BACKUP_ROOT is gone" },
        { "an ERR with control characters", "ERR internal \u001b[31mboom\n", @"answered 'hello' with an ERR line this producer cannot read ('ERR internal \x1b[31mboom')" },
    };

    public static TheoryData<string, string, string> SessionListAnswers() => new()
    {
        { "a NUL", Entry + "\0\nDONE list\n", "has a line this producer cannot read (line 1)" },
        { "CRLF", Entry + "\r\nDONE list\n", "has a line this producer cannot read (line 1)" },
        { "a duplicate line", Entry + "\n" + Entry + "\nDONE list\n", "names snapshot prod-srv-rootfs-20260101T000000Z twice (line 2)" },
        { "an extra line", Entry + "\nhello world\nDONE list\n", "has a line this producer cannot read (line 2)" },
        { "a DONE for another verb", Entry + "\nDONE hello\n", "ended its answer to 'list' with 'DONE hello'" },
        { "no DONE line", Entry + "\n", "ended the session without finishing its answer to 'list'" },
        { "an overlong line", Entry + " " + new string('x', 100_000) + "\nDONE list\n", "answered 'list' with a line longer than 2048 bytes" },
    };

    public static TheoryData<string, string, string> SessionUploadAnswers() => new()
    {
        { "nothing before DONE", "DONE receive\n", "the receiver answered 0 lines, not one OK line" },
        { "a NUL", "OK\0\nDONE receive\n", @"did not answer OK ('OK\x00')" },
        { "extra lines", "OK " + Sha + " 1\nOK " + Sha + " 1\nDONE receive\n", "the receiver answered 2 lines, not one OK line" },
        { "an OK for other bytes", "OK " + Sha + " 1\nDONE receive\n", $"the receiver stored 1 bytes with SHA-256 {new string('a', 64)}, but " },
        { "an ERR", "ERR exists already stored\n", "the receiver refused 'receive prod-srv/rootfs" },
        { "no DONE line", "OK " + Sha + " 1\n", "ended the session without finishing its answer to 'receive'" },
        { "a DONE for another verb", "OK " + Sha + " 1\nDONE list\n", "ended its answer to 'receive' with 'DONE list'" },
    };

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [MemberData(nameof(SessionHelloAnswers))]
    public async Task A_garbage_hello_answer_in_a_session_is_one_clear_error_line(string what, string answer, string expected)
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(answer));
        await using var client = receiver.Client(Patient);

        var ex = await Assert.ThrowsAnyAsync<BtrfsSendException>(() => client.OpenSessionAsync(Logger.None));

        AssertOneClearLine(what, ex, expected);
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [MemberData(nameof(SessionListAnswers))]
    public async Task A_garbage_list_answer_in_a_session_is_one_clear_error_line(string what, string answer, string expected)
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(HelloDone + answer));
        await using var client = receiver.Client(Patient);
        await client.OpenSessionAsync(Logger.None);

        var ex = await Assert.ThrowsAsync<TransferFailedException>(() => client.ListAsync(Set));

        AssertOneClearLine(what, ex, expected);
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [MemberData(nameof(SessionUploadAnswers))]
    public async Task A_garbage_answer_to_an_upload_in_a_session_is_one_clear_error_line(string what, string answer, string expected)
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(HelloDone + answer));
        await using var client = receiver.Client(Patient);
        await client.OpenSessionAsync(Logger.None);

        var ex = await Assert.ThrowsAnyAsync<BtrfsSendException>(() => UploadAsync(receiver, encrypted: false, client));

        AssertOneClearLine(what, ex, expected);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_line_after_the_last_answer_of_a_session_is_one_clear_error_line()
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(HelloDone + "OK " + Sha + " 1\n"));
        await using var client = receiver.Client(Patient);
        await client.OpenSessionAsync(Logger.None);

        var ex = await Assert.ThrowsAsync<TransferFailedException>(client.EndSessionAsync);

        AssertOneClearLine("an extra line", ex, $"said more after its last answer ('OK {Sha} 1'); a session answers each request once");
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_receiver_that_never_answers_hello_in_a_session_is_given_up_on_after_the_idle_timeout()
    {
        var receiver = await canned.StartedAsync();
        receiver.Stall();
        var watch = Stopwatch.StartNew();
        await using var client = receiver.Client(Idle);

        var ex = await Assert.ThrowsAsync<IdleTimeoutException>(() => client.OpenSessionAsync(Logger.None));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), watch.Elapsed.ToString());
        AssertOneClearLine("a stall", ex, "did not answer 'hello' within 2 seconds (IDLE_TIMEOUT_SECONDS)");
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [MemberData(nameof(HelloAnswers))]
    public async Task A_garbage_hello_answer_is_one_clear_error_line(string what, string answer, string expected)
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(answer));

        var ex = await Assert.ThrowsAnyAsync<BtrfsSendException>(() => receiver.Client(Patient).HelloAsync());

        AssertOneClearLine(what, ex, expected);
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [MemberData(nameof(ListAnswers))]
    public async Task A_garbage_list_answer_is_one_clear_error_line(string what, string answer, string expected)
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(answer));

        var ex = await Assert.ThrowsAsync<TransferFailedException>(() => receiver.Client(Patient).ListAsync(Set));

        AssertOneClearLine(what, ex, expected);
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [MemberData(nameof(UploadAnswers))]
    public async Task A_garbage_answer_to_an_upload_is_one_clear_error_line(string what, string answer, string expected)
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes(answer));

        var ex = await Assert.ThrowsAnyAsync<BtrfsSendException>(() => UploadAsync(receiver, encrypted: false, Patient));

        AssertOneClearLine(what, ex, expected);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_garbage_answer_to_an_encrypted_upload_is_one_clear_error_line()
    {
        var receiver = await canned.StartedAsync();
        receiver.Answer(Encoding.UTF8.GetBytes("OK " + Sha + " 99999999999999999999999\n"));

        var ex = await Assert.ThrowsAsync<TransferFailedException>(() => UploadAsync(receiver, encrypted: true, Patient));

        AssertOneClearLine("a huge number", ex, "did not answer OK ('OK aaaa");
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_receiver_that_never_answers_hello_or_list_is_given_up_on_after_the_idle_timeout()
    {
        var receiver = await canned.StartedAsync();
        receiver.Stall();
        var watch = Stopwatch.StartNew();

        var hello = await Assert.ThrowsAsync<IdleTimeoutException>(() => receiver.Client(Idle).HelloAsync());
        var list = await Assert.ThrowsAsync<IdleTimeoutException>(() => receiver.Client(Idle).ListAsync(Set));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), watch.Elapsed.ToString());
        AssertOneClearLine("a stall", hello, "did not answer 'hello' within 2 seconds (IDLE_TIMEOUT_SECONDS)");
        AssertOneClearLine("a stall", list, "did not answer 'list' within 2 seconds (IDLE_TIMEOUT_SECONDS)");
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [InlineData(false, "receive")]
    [InlineData(true, "receive-stream")]
    public async Task A_receiver_that_reads_the_whole_upload_and_never_answers_is_given_up_on_after_the_idle_timeout(bool encrypted, string verb)
    {
        var receiver = await canned.StartedAsync();
        receiver.Stall();
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<IdleTimeoutException>(() => UploadAsync(receiver, encrypted, Idle));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), watch.Elapsed.ToString());
        Assert.Equal(ExitCode.TransferFailed, ex.ExitCode);
        AssertOneClearLine("a stall", ex, $"did not answer '{verb}' within 2 seconds after the whole stream was sent (IDLE_TIMEOUT_SECONDS); the upload was abandoned and is not recorded as done");
    }

    [RealTheory("/usr/sbin/sshd", "ssh", "sudo")]
    [InlineData(false, "receive")]
    [InlineData(true, "receive-stream")]
    public async Task A_receiver_that_reads_the_whole_upload_in_a_session_and_never_answers_is_given_up_on_after_the_idle_timeout(bool encrypted, string verb)
    {
        var receiver = await canned.StartedAsync();
        receiver.StallAfter(Encoding.UTF8.GetBytes(HelloDone));
        // Long enough that the upload still goes into the session (a session silent for half of it is not reused).
        var idle = TimeSpan.FromSeconds(6);
        await using var client = receiver.Client(idle);
        await client.OpenSessionAsync(Logger.None);
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<IdleTimeoutException>(() => UploadAsync(receiver, encrypted, client));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(40), watch.Elapsed.ToString());
        Assert.Equal(ExitCode.TransferFailed, ex.ExitCode);
        AssertOneClearLine("a stall in a session", ex, $"did not answer '{verb}' within 6 seconds (IDLE_TIMEOUT_SECONDS); the request was abandoned");
    }

    private static void AssertOneClearLine(string what, Exception ex, string expected)
    {
        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{what}: {ex.GetType().Name}: {ex.Message}");
        Assert.True(ex.Message.All(c => c is >= ' ' and <= '~'), $"{what}: not one printable line: {ex.Message}");
        Assert.True(ex.Message.Length < 1000, $"{what}: {ex.Message.Length} characters");
    }

    /// <summary>
    /// The real send pipeline with a small valid send stream (SUBVOL, END) from <c>cat</c> in place of
    /// <c>btrfs send</c>: remote-btrfs's <c>receive</c>, or an encrypted <c>receive-stream</c>.
    /// </summary>
    private static Task UploadAsync(CannedReceiver receiver, bool encrypted, TimeSpan idleTimeout)
        => UploadAsync(receiver, encrypted, receiver.Client(idleTimeout));

    private static async Task UploadAsync(CannedReceiver receiver, bool encrypted, BtrfsSend.Producer.Connection.ReceiverClient client)
    {
        var stream = Path.Combine(receiver.DirPath, "stream");
        if (!File.Exists(stream))
        {
            var ctransid = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(ctransid, 7);
            await File.WriteAllBytesAsync(stream, SendStreamForge.Build(1,
            [
                new SendStreamForge.Command(1, [(SendStreamForge.AttrPath, "rootfs-20260101T000000Z"u8.ToArray()), (1, Guid.NewGuid().ToByteArray()), (2, ctransid)]),
                new SendStreamForge.Command(SendStreamForge.End, []),
            ]));
        }

        var snapshot = SnapshotName.Parse("prod-srv-rootfs-20260101T000000Z");
        var pipeline = new SendPipeline(client, Logger.None);
        if (encrypted)
        {
            await pipeline.RunAsync(["cat", stream], new ReceiveStreamRequest(Set, snapshot, isIncremental: false, parent: null), EncryptionKeys.FromPassphrase("test passphrase"u8.ToArray()));
        }
        else
        {
            await pipeline.RunAsync(["cat", stream], new ReceiveRequest(Set, snapshot, parent: null), keys: null);
        }
    }
}

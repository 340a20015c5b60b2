using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Transport;
using BtrfsSend.Producer.Backup;
using BtrfsSend.Producer.Connection;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Serilog.Core;

namespace BtrfsSend.Producer.Tests.Connection;

/// <summary>
/// The producer's parsing of a session's answers against a hostile receiver: the session's "ssh" is a
/// shell that prints canned bytes (then closes its stdout and drains its stdin, as a receiver that
/// answered everything at once), and the real <see cref="ReceiverClient"/> and send pipeline run a
/// remote-btrfs-shaped exchange on it: hello, list, an upload, close-luks, the end of the session.
/// Garbage, duplicate DONE lines, lines after the last answer, overlong lines: each ends the run
/// with one clear, printable error line of the producer's own exception types, never an internal crash.
/// </summary>
public sealed class SessionAnswerTests : IDisposable
{
    private const string Hello = "btrfs-send-receiver 1.0.0 proto=1 modes=encrypted-stream,remote-btrfs session=1";
    private const string Entry = "prod-srv-rootfs-20260101T000000Z full - 1000 2026-01-01T00:00:05Z";
    private static readonly BackupSet Set = BackupSet.Parse("prod-srv/rootfs");
    private static readonly byte[] SendStream = BuildSendStream();
    private static readonly string Ok = $"OK {Convert.ToHexStringLower(SHA256.HashData(SendStream))} {SendStream.Length}";

    private readonly TempDir _dir = new("session-answers");

    public void Dispose() => _dir.Dispose();

    /// <summary>Every answer of the exchange, correct.</summary>
    private static string Valid => $"{Hello}\nDONE hello\n{Entry}\nDONE list\n{Ok}\nDONE receive\nDONE close-luks\n";

    public static TheoryData<string, string, string> Answers() => new()
    {
        { "a duplicate DONE for hello", $"{Hello}\nDONE hello\nDONE hello\n{Entry}\nDONE list\n", "ended its answer to 'list' with 'DONE hello'; a session answers each request in turn" },
        { "a duplicate DONE for list", $"{Hello}\nDONE hello\n{Entry}\nDONE list\nDONE list\n", "ended its answer to 'receive' with 'DONE list'" },
        { "a duplicate DONE at the end", Valid + "DONE close-luks\n", "said more after its last answer ('DONE close-luks'); a session answers each request once" },
        { "an ERR after the last answer", Valid + "ERR internal boom\n", "said more after its last answer ('ERR internal boom')" },
        { "binary after the last answer", Valid + "\0\u0001\u00ff\u001b[2J\n", @"said more after its last answer ('\x00\x01\xff\x1b[2J')" },
        { "an overlong line after the last answer", Valid + new string('x', 5000) + "\n", "said more after its last answer ('the receiver at fuzz answered 'session' with a line longer than 2048 bytes" },
        { "a cut line after the last answer", Valid + "DONE clo", "said more after its last answer ('the receiver at fuzz ended the session inside a line" },
        { "an answer line before DONE close-luks", $"{Hello}\nDONE hello\n{Entry}\nDONE list\n{Ok}\nDONE receive\nOK\nDONE close-luks\n", "answered 'close-luks' with 'OK'; it answers nothing but its end of answer there" },
        { "two OK lines for the upload", $"{Hello}\nDONE hello\n{Entry}\nDONE list\n{Ok}\n{Ok}\nDONE receive\n", "the receiver answered 2 lines, not one OK line" },
        { "an overlong OK line", $"{Hello}\nDONE hello\n{Entry}\nDONE list\nOK {new string('f', 5000)}\nDONE receive\n", "answered 'receive' with a line longer than 2048 bytes" },
        { "an overlong hello", "btrfs-send-receiver " + new string('9', 100_000) + "\n", "answered 'hello' with a line longer than 2048 bytes" },
        { "binary garbage as the hello", "\0\u00ff\u00fe\u0007\nDONE hello\n", @"did not answer hello as btrfs-backup-receive does ('\x00\xff\xfe\x07')" },
        { "a DONE with a trailing space", $"{Hello}\nDONE hello\n{Entry}\nDONE list \n", "ended the session without finishing its answer to 'list' (no DONE line)" },
        { "a DONE in upper case", $"{Hello}\nDONE hello\n{Entry}\nDone list\n", "ended the session without finishing its answer to 'list'" },
        { "an ERR, then more lines", $"{Hello}\nDONE hello\nERR forbidden not yours\nDONE list\n{Entry}\n", "the receiver refused 'list prod-srv/rootfs': forbidden: not yours" },
        { "an ERR for the upload", $"{Hello}\nDONE hello\n{Entry}\nDONE list\nERR exists already stored\n", "the receiver refused 'receive prod-srv/rootfs" },
        { "CRLF lines", $"{Hello}\r\nDONE hello\r\n", "ended the session without finishing its answer to 'hello'" },
        { "nothing at all", "", "ended the session without finishing its answer to 'hello' (no DONE line); it said nothing" },
    };

    [Fact]
    public async Task The_whole_valid_exchange_succeeds_so_every_failure_below_is_the_answers_fault()
    {
        await ExchangeAsync(Valid);
    }

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task A_hostile_session_answer_is_one_clear_error_line(string what, string answer, string expected)
    {
        var ex = await Record.ExceptionAsync(() => ExchangeAsync(answer));

        AssertOneClearLine(what, ex, expected);
        Assert.DoesNotContain("connection to the receiver broke", ex!.Message, StringComparison.Ordinal); // the answer was broken, not the connection
    }

    [Fact]
    public async Task An_open_luks_refused_by_a_receiver_that_closed_the_session_reports_its_err_line_not_the_failed_key_write()
    {
        // The receiver closes its stdin before it answers: every write of ours after hello fails (EPIPE).
        await using var client = Client(Hello + "\nDONE hello\nERR busy the volume is in use by another request\n", closesStdinFirst: true);
        await client.OpenSessionAsync(Logger.None);

        var ex = await Record.ExceptionAsync(() => client.RunAsync(new OpenLuksRequest(), "key"u8.ToArray(), CancellationToken.None));

        AssertOneClearLine("a closed session", ex, "the receiver refused 'open-luks': busy: the volume is in use by another request");
    }

    [Fact]
    public async Task An_upload_refused_by_a_receiver_that_closed_the_session_reports_its_err_line_not_the_failed_write()
    {
        await using var client = Client($"{Hello}\nDONE hello\nERR exists already stored\n", closesStdinFirst: true);
        await client.OpenSessionAsync(Logger.None);

        var ex = await Record.ExceptionAsync(() => UploadAsync(client));

        AssertOneClearLine("a closed session", ex, "the receiver refused 'receive prod-srv/rootfs prod-srv-rootfs-20260102T000000Z': exists: already stored");
    }

    [Property(MaxTest = 150)]
    public Property Any_session_answer_succeeds_or_fails_with_one_printable_line_of_our_own_errors()
    {
        var lines = Gen.Elements(Hello, "DONE hello", Entry, "DONE list", Ok, "DONE receive", "DONE close-luks", "DONE session", "ERR truncated cut", "ERR internal x",
            "OK", "", "\r", new string('x', 3000), "btrfs-send-receiver 1.0.0 proto=1 modes=encrypted-stream");
        var noise = ArbMap.Default.GeneratorFor<string>();
        var piece = Gen.Frequency((6, lines.Select(l => l + "\n")), (2, noise), (1, noise.Select(n => n + "\n")));
        var answers = Gen.OneOf(
            Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(piece, n)).Select(a => string.Concat(a)),
            Gen.Choose(0, Valid.Length).SelectMany(cut => piece.Select(p => Valid[..cut] + p + Valid[cut..])));
        return Prop.ForAll(answers.ToArbitrary(), answer =>
        {
            var ex = Task.Run(() => Record.ExceptionAsync(() => ExchangeAsync(answer))).GetAwaiter().GetResult();
            return (ex is null || IsOneClearLine(ex)).Label($"{ex?.GetType().Name}: {ex?.Message}");
        });
    }

    /// <summary>hello (opening the session), list, a remote-btrfs upload of a tiny send stream, close-luks, the end of the session.</summary>
    private async Task ExchangeAsync(string answer)
    {
        await using var client = Client(answer);
        await client.OpenSessionAsync(Logger.None);
        await client.ListAsync(Set);
        await UploadAsync(client);
        await client.RunAsync(new CloseLuksRequest(), ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        await client.EndSessionAsync();
    }

    /// <summary>
    /// A client whose session is a shell printing <paramref name="answer"/>, then closing its stdout (EOF
    /// for the producer) and reading its stdin to the end; or, with <paramref name="closesStdinFirst"/>,
    /// closing its stdin before it prints anything (a receiver that refused and is gone).
    /// </summary>
    private ReceiverClient Client(string answer, bool closesStdinFirst = false)
    {
        var answerPath = _dir.Sub(Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(answerPath, Encoding.Latin1.GetBytes(answer));
        var script = closesStdinFirst ? "exec <&-; cat \"$0\"" : "cat \"$0\"; exec >&-; exec cat >/dev/null";
        return new ReceiverClient(new SshArgv { Target = "fuzz" }, new ToolRunner())
        {
            IdleTimeout = TimeSpan.FromSeconds(20),
            SessionArgv = ["sh", "-c", script, answerPath],
        };
    }

    private async Task UploadAsync(ReceiverClient client)
    {
        var streamPath = _dir.Sub("stream");
        if (!File.Exists(streamPath))
        {
            await File.WriteAllBytesAsync(streamPath, SendStream);
        }

        var snapshot = SnapshotName.Parse("prod-srv-rootfs-20260102T000000Z");
        await new SendPipeline(client, Logger.None).RunAsync(["cat", streamPath], new ReceiveRequest(Set, snapshot, parent: null), keys: null);
    }

    private static void AssertOneClearLine(string what, Exception? ex, string expected)
    {
        Assert.True(ex is not null, $"{what}: no error");
        Assert.True(ex.Message.Contains(expected, StringComparison.Ordinal), $"{what}: {ex.GetType().Name}: {ex.Message}");
        Assert.True(IsOneClearLine(ex), $"{what}: {ex.GetType().Name}: {ex.Message}");
    }

    private static bool IsOneClearLine(Exception ex)
        => ex is BtrfsSendException && ex.Message.Length is > 0 and < 1000 && ex.Message.All(c => c is >= ' ' and <= '~');

    /// <summary>A valid send stream: SUBVOL, END.</summary>
    private static byte[] BuildSendStream()
    {
        var ctransid = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(ctransid, 7);
        return SendStreamForge.Build(1,
        [
            new SendStreamForge.Command(1, [(SendStreamForge.AttrPath, "rootfs-20260102T000000Z"u8.ToArray()), (1, Guid.NewGuid().ToByteArray()), (2, ctransid)]),
            new SendStreamForge.Command(SendStreamForge.End, []),
        ]);
    }
}

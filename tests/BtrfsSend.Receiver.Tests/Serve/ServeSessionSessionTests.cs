using System.Text;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

/// <summary>
/// The <c>session</c> verb: several requests on one stdin, each checked as on its own connection,
/// each answered as there and ended by <c>DONE &lt;verb&gt;</c>; the first refusal ends the session.
/// Written as an attacker holding a client key would try it.
/// </summary>
public sealed class ServeSessionSessionTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static byte[] Input(params object[] parts)
        => [.. parts.SelectMany(p => p is string s ? Encoding.ASCII.GetBytes(s) : (byte[])p)];

    [Fact]
    public async Task Hello_list_and_an_upload_share_one_session_and_each_answer_ends_with_its_done_line()
    {
        var payload = Framing.Encrypted(3000);
        var stdin = Input("hello\n", "list s\n", $"receive-stream s {Name(1)} full\n", Framing.Frame(payload, frameLength: 1000), "list s\n");

        var result = await _h.ServeAsync("session", stdin);

        Assert.Equal(0, result.ExitCode);
        var lines = result.StdoutLines;
        Assert.Equal(7, lines.Count);
        Assert.Matches(@"^btrfs-send-receiver \S+ proto=1 modes=encrypted-stream session=1$", lines[0]);
        Assert.Equal(["DONE hello", "DONE list"], lines.Skip(1).Take(2));
        Assert.Equal($"OK {Framing.Sha256Hex(payload)} 3000", lines[3]);
        Assert.Equal("DONE receive-stream", lines[4]);
        Assert.StartsWith($"{Name(1)} full - 3000 ", lines[5], StringComparison.Ordinal);
        Assert.Equal("DONE list", lines[6]);
        Assert.NotNull(_h.Store.Read(Set("s")).Find(Snap(Name(1))));
    }

    [Fact]
    public async Task An_empty_session_ends_at_once_with_exit_0()
    {
        var result = await _h.ServeAsync("session", []);

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task A_refusal_ends_the_session_after_its_err_line_and_later_requests_are_never_served()
    {
        var result = await _h.ServeAsync("session", Input("hello\n", "list ../etc\n", "hello\n"));

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(3, result.StdoutLines.Count);
        Assert.Equal("DONE hello", result.StdoutLines[1]);
        Assert.StartsWith("ERR bad-set ", result.StdoutLines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_set_the_client_may_not_use_is_forbidden_inside_a_session_as_on_its_own_connection()
    {
        var options = _h.Options with { ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>> { ["prod"] = ["prod/"] } };

        var result = await _h.ServeAsync("session", Input("list prod/a\n", "list other/b\n"), client: "prod", options: options);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("DONE list", result.StdoutLines[0]);
        Assert.StartsWith("ERR forbidden client 'prod' may not use backup set 'other/b'", result.StdoutLines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_upload_in_one_session_is_refused_and_stores_nothing()
    {
        var first = Framing.Encrypted(100);
        var stdin = Input($"receive-stream s {Name(2)} full\n", Framing.Frame(first), $"receive-stream s {Name(1)} incremental {Name(2)}\n", Framing.Frame(Framing.Encrypted(50)));

        var result = await _h.ServeAsync("session", stdin);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("DONE receive-stream", result.StdoutLines[1]);
        Assert.StartsWith("ERR bad-command 'receive-stream': a session carries at most 1 upload", result.StdoutLines[2], StringComparison.Ordinal);
        Assert.Single(_h.Store.Read(Set("s")).Streams);
    }

    [Fact]
    public async Task An_upload_in_a_session_still_counts_against_MAX_UPLOADS_PER_DAY()
    {
        _h.Options = _h.Options with { MaxUploadsPerDay = 1 };
        _h.StoreDirect("s", Name(5), Now.UtcDateTime.AddHours(-5));

        var result = await _h.ServeAsync("session", Input("hello\n", $"receive-stream s {Name(1)} full\n", Framing.Frame(Framing.Encrypted(10))));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.RateLimited} ", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Single(_h.Store.Read(Set("s")).Streams);
    }

    [Theory]
    [InlineData("session\n", "'session' is not served inside a session")]
    [InlineData("get s root-20240310T110000Z\n", "'get' is not served inside a session")]
    public async Task A_nested_session_and_get_are_refused_inside_a_session(string line, string expected)
    {
        _h.Options = _h.Options with { AllowGet = true };
        _h.StoreDirect("s", "root-20240310T110000Z", Now.UtcDateTime.AddHours(-1));

        var result = await _h.ServeAsync("session", Input(line));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith("ERR bad-command " + expected, Assert.Single(result.StdoutLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_seventeenth_request_of_a_session_is_refused()
    {
        var result = await _h.ServeAsync("session", Input(string.Concat(Enumerable.Repeat("hello\n", 17))));

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(33, result.StdoutLines.Count);
        Assert.StartsWith("ERR bad-command request 17 of this session: a session carries at most 16 requests", result.StdoutLines[^1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hello", "session request 1 ended after 5 bytes without its LF")]
    [InlineData("hello\r\n", @"\x0d")]
    [InlineData("hel\0lo\n", @"\x00")]
    [InlineData("h\u00e9llo\n", @"\xe9")]
    [InlineData("hello\n\n", "command is empty")]
    public async Task A_malformed_request_line_is_one_err_line(string input, string expected)
    {
        var result = await _h.ServeAsync("session", Encoding.Latin1.GetBytes(input));

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith("ERR bad-command ", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Contains(expected, result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.All(result.StdoutText, c => Assert.True(c is '\n' or (>= ' ' and <= '~')));
    }

    [Fact]
    public async Task An_overlong_request_line_is_refused_without_reading_to_its_end()
    {
        var stdin = Input("list " + new string('a', 2_000_000));

        var result = await _h.ServeAsync("session", stdin);

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith($"ERR bad-command session request 1 is longer than {CommandGrammar.MaxBytes} bytes before its LF", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cut_upload_inside_a_session_is_truncated_and_stores_nothing()
    {
        var framed = Framing.Frame(Framing.Encrypted(5000), frameLength: 1000);

        var result = await _h.ServeAsync("session", Input($"receive-stream s {Name(1)} full\n", framed[..^20]));

        Assert.Equal(6, result.ExitCode);
        Assert.StartsWith("ERR truncated ", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
        Assert.Empty(_h.Store.Read(Set("s")).Streams);
        Assert.Empty(_h.Temps());
    }

    [Fact]
    public async Task A_request_line_smuggled_into_an_upload_is_payload_and_never_a_request()
    {
        // The trailer's count and hash cover "list s\n" as payload bytes: it is stored, not served.
        var payload = Input(Framing.Encrypted(10), "\nlist s\n");

        var result = await _h.ServeAsync("session", Input($"receive-stream s {Name(1)} full\n", Framing.Frame(payload)));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal([$"OK {Framing.Sha256Hex(payload)} {payload.Length}", "DONE receive-stream"], result.StdoutLines);
    }

    [Fact]
    public async Task A_client_silent_between_requests_gets_idle_timeout_and_the_session_ends()
    {
        _h.Options = _h.Options with { IdleTimeout = TimeSpan.FromMilliseconds(300) };
        var stdin = new TrickleStream(Encoding.ASCII.GetBytes("hello\n"), 100, stallAtEnd: true);

        var result = await _h.ServeAsync("session", stdin);

        Assert.Equal(6, result.ExitCode);
        Assert.Equal("DONE hello", result.StdoutLines[1]);
        Assert.StartsWith("ERR idle-timeout waiting for session request 2", result.StdoutLines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_stalls_mid_upload_inside_a_session_is_cut_off_with_its_temp_file_removed_and_the_set_lock_released()
    {
        _h.Options = _h.Options with { IdleTimeout = TimeSpan.FromMilliseconds(300) };
        var framed = Framing.Frame(Framing.Encrypted(5000), frameLength: 1000);
        var stdin = new TrickleStream(Input("hello\n", $"receive-stream s {Name(1)} full\n", framed[..3000]), maxRead: 700, stallAtEnd: true);

        var result = await _h.ServeAsync("session", stdin).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(6, result.ExitCode);
        Assert.Equal("DONE hello", result.StdoutLines[1]);
        Assert.StartsWith($"ERR {ErrorCodes.IdleTimeout} the client sent nothing for 0 seconds", result.StdoutLines[2], StringComparison.Ordinal);
        Assert.Equal(3, result.StdoutLines.Count);
        Assert.Contains(result.Log, l => l.Contains("idle-timeout", StringComparison.Ordinal));
        Assert.Empty(_h.Temps());
        Assert.Empty(_h.Store.Read(Set("s")).Streams);
        var next = await _h.ServeAsync("session", Input($"receive-stream s {Name(1)} full\n", Framing.Frame(Framing.Encrypted(10))));
        Assert.True(next.ExitCode == 0, next.StdoutText);
    }

    [Theory]
    [InlineData("an empty payload", "")]
    [InlineData("a plain btrfs send stream", "btrfs-stream\0\u0001\0\0\0")]
    public async Task A_payload_that_is_not_OpenPGP_encrypted_is_refused_inside_a_session_and_nothing_is_stored(string what, string payload)
    {
        var stdin = Input("hello\n", $"receive-stream s {Name(1)} full\n", Framing.Frame(Encoding.Latin1.GetBytes(payload)), "list s\n");

        var result = await _h.ServeAsync("session", stdin);

        Assert.True(result.ExitCode == 5, what);
        Assert.StartsWith($"ERR {ErrorCodes.NotEncrypted} ", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Equal(3, result.StdoutLines.Count);
        Assert.Empty(_h.Store.Read(Set("s")).Streams);
        Assert.Empty(_h.Temps());
    }

    [Fact]
    public async Task A_refusal_inside_a_session_names_no_server_path_and_the_log_keeps_it()
    {
        var missing = Path.Combine(_h.DirPath, "not-mounted");
        _h.Options = _h.Options with { BackupRootDirPath = missing };

        var result = await _h.ServeAsync("session", Input($"receive-stream s {Name(1)} full\n", Framing.Frame(Framing.Encrypted(10))));

        Assert.Equal(10, result.ExitCode);
        Assert.StartsWith($"ERR {ErrorCodes.IoError} BACKUP_ROOT does not exist", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
        Assert.DoesNotContain(_h.DirPath, result.StdoutText, StringComparison.Ordinal);
        Assert.Contains(result.Log, l => l.Contains($"BACKUP_ROOT {missing} does not exist", StringComparison.Ordinal));
        // The one-liner for the client's stderr (logged at Error, the full detail at Warning).
        var toClient = Assert.Single(result.Log, l => l.StartsWith("Error refused", StringComparison.Ordinal));
        Assert.DoesNotContain(_h.DirPath, toClient, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task A_single_verb_hello_offers_sessions()
    {
        var result = await _h.ServeAsync("hello");

        Assert.EndsWith(" session=1", Assert.Single(result.StdoutLines), StringComparison.Ordinal);
    }
}

using System.Buffers.Binary;
using System.Text;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Receiver.Tests.Support;
using BtrfsSend.TestSupport;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static BtrfsSend.Receiver.Tests.Support.ReceiverHarness;

namespace BtrfsSend.Receiver.Tests.Serve;

/// <summary>
/// The hostile request corpus inside a <c>session</c> (docs/protocol.md, "Sessions"), written as an
/// attacker holding a client key would try it: garbage and overlong lines, verbs a session does not
/// serve, more than its limits, a set the key may not use, an upload that never ends or stalls,
/// requests after a refusal, a client gone mid-upload. Each gives the documented ERR line and exit
/// code; nothing is committed or left half-written; the earlier backup is intact; and the set's lock
/// is free again (the same snapshot can be uploaded right after).
/// </summary>
public sealed class ServeSessionHostileTests : IDisposable
{
    private readonly ReceiverHarness _h = new();

    public ServeSessionHostileTests()
    {
        _h.StoreDirect("s", Name(5), Now.UtcDateTime.AddHours(-5));
    }

    public void Dispose() => _h.Dispose();

    private static string Upload => $"receive-stream s {Name(1)} full\n";

    private static byte[] Input(params object[] parts)
        => [.. parts.SelectMany(p => p is string s ? Encoding.Latin1.GetBytes(s) : (byte[])p)];

    public static TheoryData<string, byte[], string> GarbageLines() => new()
    {
        { "a NUL line", Input("hello\n", "\0\n"), "ERR bad-command " },
        { "escape sequences", Input("\u001b[2J\u001b]0;pwned\u0007\n"), "ERR bad-command " },
        { "a shell command", Input("hello; touch /tmp/pwned\n"), "ERR bad-command " },
        { "a literal end", Input("hello\n", "end\n"), "ERR bad-command unknown command 'end'" },
        { "a DONE line", Input("DONE hello\n"), "ERR bad-command " },
        { "an OK line", Input("OK " + new string('a', 64) + " 1\n"), "ERR bad-command " },
        { "a BSF1 stream instead of a request line", Framing.Frame(Framing.Encrypted(3000), frameLength: 1000), "ERR bad-command " },
        { "an overlong line after a good request", Input("hello\n", "list " + new string('a', 5000) + "\n"), "ERR bad-command session request 2 is longer than 1024 bytes before its LF" },
        { "a line cut by EOF", Input("hello\n", "list s"), "ERR bad-command session request 2 ended after 6 bytes without its LF" },
        { "the local verb check", Input("check\n"), "ERR bad-command unknown command 'check'" },
        { "the local verb prune", Input("prune\n"), "ERR bad-command unknown command 'prune'" },
        { "the local verb adopt", Input("adopt s\n"), "ERR bad-command unknown command 'adopt'" },
        { "the local verb close-stale", Input("close-stale\n"), "ERR bad-command unknown command 'close-stale'" },
        { "the local verb replicate", Input("replicate\n"), "ERR bad-command unknown command 'replicate'" },
        { "serve itself", Input("serve -- hello\n"), "ERR bad-command unknown command 'serve'" },
        { "get", Input("hello\n", $"get s {Name(5)}\n"), "ERR bad-command 'get' is not served inside a session" },
        { "a nested session", Input("hello\n", "session\n", "hello\n"), "ERR bad-command 'session' is not served inside a session" },
        { "an upload as the 17th request", Input(string.Concat(Enumerable.Repeat("hello\n", 16)), Upload, Framing.Frame(Framing.Encrypted(100))), "ERR bad-command request 17 of this session: a session carries at most 16 requests" },
        { "a second upload by the other upload verb", Input(Upload, Framing.Frame(Framing.Encrypted(100)), $"receive s {Name(0.5)}\n"), "ERR bad-command 'receive': a session carries at most 1 upload" },
        { "an upload after a refusal", Input("list ../etc\n", Upload, Framing.Frame(Framing.Encrypted(100))), "ERR bad-set " },
        { "an upload cut by EOF", Input("hello\n", Upload, Framing.Frame(Framing.Encrypted(5000), frameLength: 1000)[..^40]), "ERR truncated " },
    };

    [Theory]
    [MemberData(nameof(GarbageLines))]
    public async Task Hostile_input_inside_a_session_is_one_err_line_and_commits_nothing(string what, byte[] stdin, string expected)
    {
        var before = _h.Tree();
        var allowedExtra = what.StartsWith("a second upload", StringComparison.Ordinal) ? 1 : 0;

        var result = await _h.ServeAsync("session", stdin);

        Assert.True(result.ExitCode is 5 or 6, $"{what}: exit {result.ExitCode}");
        Assert.StartsWith(expected, result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.True(result.StdoutLines.Count(l => l.StartsWith("ERR ", StringComparison.Ordinal)) == 1, $"{what}: {result.StdoutText}");
        Assert.All(result.StdoutText, c => Assert.True(c is '\n' or (>= ' ' and <= '~'), $"{what}: {result.StdoutText}"));
        Assert.Equal(before.Count + (2 * allowedExtra), _h.Tree().Count);
        Assert.All(before, e => Assert.Equal(e.Value, _h.Tree()[e.Key]));
        Assert.Empty(_h.Temps());
        await AssertUploadWorksAgainAsync(allowedExtra == 0);
    }

    [Fact]
    public async Task An_upload_to_a_set_the_key_may_not_use_is_forbidden_inside_a_session_and_creates_nothing()
    {
        var options = _h.Options with { ClientSetPrefixes = new Dictionary<string, IReadOnlyList<string>> { ["prod"] = ["s"] } };
        var before = _h.Tree();

        var result = await _h.ServeAsync("session", Input("hello\n", $"receive-stream other/x {Name(1)} full\n", Framing.Frame(Framing.Encrypted(100))), client: "prod", options: options);

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith("ERR forbidden client 'prod' may not use backup set 'other/x'", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
    }

    [Fact]
    public async Task An_endless_upload_without_a_trailer_inside_a_session_is_too_large_once_MAX_STREAM_SIZE_is_passed()
    {
        // The 10 GiB case scaled down: MAX_STREAM_SIZE 1 MiB, frames of zeros forever.
        const long max = 1 << 20;
        _h.Options = _h.Options with { MaxStreamSize = max };
        var before = _h.Tree();
        var endless = new EndlessUpload(Input("hello\n", Upload), limit: 10L << 30);

        var result = await _h.ServeAsync("session", endless);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal("DONE hello", result.StdoutLines[1]);
        Assert.StartsWith("ERR too-large ", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.True(endless.BytesRead < max + (4 << 20), $"the receiver read {endless.BytesRead} bytes before it stopped");
        Assert.Equal(before, _h.Tree());
        Assert.Empty(_h.Temps());
        await AssertUploadWorksAgainAsync();
    }

    [Fact]
    public async Task A_client_that_stalls_mid_upload_inside_a_session_gets_idle_timeout_and_nothing_is_stored()
    {
        _h.Options = _h.Options with { IdleTimeout = TimeSpan.FromMilliseconds(300) };
        var before = _h.Tree();
        var framed = Framing.Frame(Framing.Encrypted(50_000), frameLength: 1000);
        var stdin = new TrickleStream(Input("hello\n", "list s\n", Upload, framed[..20_000]), 4096, stallAtEnd: true);

        var result = await _h.ServeAsync("session", stdin);

        Assert.Equal(6, result.ExitCode);
        Assert.StartsWith("ERR idle-timeout ", result.StdoutLines[^1], StringComparison.Ordinal);
        Assert.Equal(before, _h.Tree());
        Assert.Empty(_h.Temps());
        _h.Options = _h.Options with { IdleTimeout = TimeSpan.FromSeconds(120) };
        await AssertUploadWorksAgainAsync();
    }

    [Property(MaxTest = 200)]
    public Property Any_bytes_as_a_session_give_printable_answer_lines_and_commit_nothing()
    {
        var request = Gen.Elements("hello\n", "list s\n", "list-received s\n", "close-luks\n", "get s x\n", "session\n", "\n", " \n", "\r\n", Upload, "DONE hello\n");
        var noise = ArbMap.Default.GeneratorFor<byte[]>();
        var piece = Gen.OneOf(request.Select(r => Encoding.ASCII.GetBytes(r)), noise, Gen.Constant(Framing.Frame(Framing.Encrypted(10))));
        return Prop.ForAll(
            Gen.Choose(0, 10).SelectMany(n => Gen.ArrayOf(piece, n)).Select(pieces => pieces.SelectMany(p => p).ToArray()).ToArbitrary(),
            stdin =>
            {
                using var h = new ReceiverHarness();
                h.StoreDirect("s", Name(5), Now.UtcDateTime.AddHours(-5));
                var before = h.Tree();
                var result = Task.Run(() => h.ServeAsync("session", stdin)).GetAwaiter().GetResult();
                var stored = h.Store.Read(Set("s")).Streams.Count;
                var lines = result.StdoutLines;
                return result.StdoutText.All(c => c is '\n' or (>= ' ' and <= '~'))
                    && lines.Count(l => l.StartsWith("ERR ", StringComparison.Ordinal)) == (result.ExitCode == 0 ? 0 : 1)
                    && (result.ExitCode == 0 || lines[^1].StartsWith("ERR ", StringComparison.Ordinal))
                    && !lines.Any(l => l.StartsWith("ERR internal", StringComparison.Ordinal))
                    && h.Temps().Count == 0
                    && before.All(e => h.Tree()[e.Key] == e.Value)
                    && stored <= 2;
            });
    }

    /// <summary>The set's lock is free and nothing blocks the snapshot: a session uploads it now (or, after a committed first upload, a later one).</summary>
    private async Task AssertUploadWorksAgainAsync(bool sameSnapshot = true)
    {
        var payload = Framing.Encrypted(2000);
        var name = sameSnapshot ? Name(1) : Name(0.25);
        var again = await _h.ServeAsync("session", Input($"receive-stream s {name} full\n", Framing.Frame(payload, frameLength: 500)));

        Assert.True(again.ExitCode == 0, again.StdoutText);
        Assert.Equal([$"OK {Framing.Sha256Hex(payload)} 2000", "DONE receive-stream"], again.StdoutLines);
    }

    /// <summary>A session's first lines, then BSF1 magic and 64 KiB frames of zeros up to <c>limit</c> bytes, never a trailer; counts what was read.</summary>
    private sealed class EndlessUpload(byte[] lines, long limit) : Stream
    {
        private readonly byte[] _frame = NewFrame();
        private long _position;

        public long BytesRead => _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var head = lines.Length + 4;
            if (_position >= limit || count == 0)
            {
                return 0;
            }

            if (_position < head)
            {
                var prefix = Input(lines, "BSF1");
                var n = (int)Math.Min(count, head - _position);
                Array.Copy(prefix, _position, buffer, offset, n);
                _position += n;
                return n;
            }

            var at = (int)((_position - head) % _frame.Length);
            var m = Math.Min(count, _frame.Length - at);
            Array.Copy(_frame, at, buffer, offset, m);
            _position += m;
            return m;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private static byte[] NewFrame()
        {
            var frame = new byte[4 + (64 * 1024)];
            BinaryPrimitives.WriteUInt32BigEndian(frame, 64 * 1024);
            frame[4] = 0x8C; // every frame begins like an OpenPGP message, so the first passes the receiver's check
            return frame;
        }
    }
}

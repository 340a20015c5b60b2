using System.Globalization;
using System.Text;
using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Faults;

/// <summary>
/// <see cref="HostileClientTests"/> inside the <c>session</c> command: an attacker with the producer's
/// valid key talks to the real receiver (forced command through sudo) over one connection, with
/// garbage and overlong request lines, verbs a session does not serve, more requests than a session
/// carries, requests after a refusal, an endless upload, a disconnect mid-upload. Each gets its
/// documented ERR line; nothing is committed or left half-written; the earlier backups stay intact
/// and the producer's next run succeeds (so no lock was left behind).
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", FaultCollection.Category)]
public sealed class HostileSessionClientTests(FaultWorldFixture fixture)
{
    private const long GiB = 1L << 30;

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_hostile_session_corpus_is_refused_with_the_documented_err_lines_and_changes_nothing()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        var latest = before.StateFiles[FaultWorld.Set]!.Trim();
        var fresh = Name(DateTime.UtcNow.AddMinutes(-3));
        var upload = Encoding.ASCII.GetBytes($"receive-stream {FaultWorld.Set} {fresh} full\n");
        var framed = Frame(Receiver.SshReceiver.Encrypted(64 * 1024));
        (string What, byte[] Stdin, int Exit, string Err)[] corpus =
        [
            ("a NUL line", Bytes("hello\n", "\0\n"), 5, "ERR bad-command "),
            ("escape sequences", Bytes("\u001b[2J\u001b]0;pwned\u0007\n"), 5, "ERR bad-command "),
            ("a shell command", Bytes($"hello; touch /tmp/pwned-{fresh}\n"), 5, "ERR bad-command "),
            ("an overlong line", Bytes("hello\n", "list " + new string('a', 100 * 1024) + "\n"), 5, "ERR bad-command session request 2 is longer than 1024 bytes"),
            ("a literal end, then an upload", Bytes("end\n", upload, framed), 5, "ERR bad-command unknown command 'end'"),
            ("a local verb", Bytes("hello\n", "check\n"), 5, "ERR bad-command unknown command 'check'"),
            ("get", Bytes("hello\n", $"get {FaultWorld.Set} {latest}\n"), 5, "ERR bad-command 'get' is not served inside a session"),
            ("a nested session", Bytes("hello\n", "session\n", "hello\n"), 5, "ERR bad-command 'session' is not served inside a session"),
            ("an upload as the 17th request", Bytes(string.Concat(Enumerable.Repeat("hello\n", 16)), upload, framed), 5, "ERR bad-command request 17 of this session"),
            ("an upload after a refusal", Bytes("list ../../etc\n", upload, framed), 5, "ERR bad-set "),
            ("an upload over a stored backup", Bytes("hello\n", $"receive-stream {FaultWorld.Set} {latest} full\n", framed, upload, framed), 5, "ERR exists "),
            ("an upload cut by EOF", Bytes("hello\n", upload, framed[..^100]), 6, "ERR truncated "),
        ];
        var outcomes = new SshOutcome[corpus.Length];

        // One after the other: the uploads would otherwise meet each other's set lock (busy).
        for (var i = 0; i < corpus.Length; i++)
        {
            var stdin = corpus[i].Stdin;
            outcomes[i] = await world.StartHostileClient("session", async (pipe, token) => await pipe.WriteAsync(stdin, token)).Completion;
            await world.WaitForReceiversToExitAsync();
        }


        var wrong = corpus.Zip(outcomes)
            .Where(c => c.Second.ExitCode != c.First.Exit
                || c.Second.Lines.Count(l => l.StartsWith("ERR ", StringComparison.Ordinal)) != 1
                || !c.Second.Lines[^1].StartsWith(c.First.Err, StringComparison.Ordinal)
                || !c.Second.StandardOutputText.All(ch => ch is '\n' or (>= ' ' and <= '~')))
            .Select(c => $"{c.First.What}: {c.Second}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.False(File.Exists($"/tmp/pwned-{fresh}"));
        world.AssertNothingChanged(before);
        Assert.Empty(world.TempFiles());
        await AssertNextRunSucceedsAsync(world, before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_10_GiB_upload_without_a_trailer_inside_a_session_is_too_large_once_1_GiB_is_passed_and_leaves_nothing()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        var prefix = Encoding.ASCII.GetBytes($"hello\nlist {FaultWorld.Set}\nreceive-stream {FaultWorld.Set} {Name(DateTime.UtcNow.AddMinutes(-3))} full\n");
        var generator = new HostileClientTests.EndlessZeros(10 * GiB, prefix);

        var outcome = await world.StartHostileClient("session", generator.WriteAsync).Completion;
        await world.WaitForReceiversToExitAsync();

        Assert.True(outcome.ExitCode == 5, outcome.ToString());
        Assert.Equal("DONE hello", outcome.Lines[1]);
        Assert.Equal("DONE list", outcome.Lines[^2]);
        Assert.StartsWith("ERR too-large ", outcome.Lines[^1], StringComparison.Ordinal);
        Assert.True(generator.Written > FaultWorld.MaxStreamSize, $"only {generator.Written} bytes were written: the refusal came before the limit");
        Assert.True(generator.Written < FaultWorld.MaxStreamSize + (256L << 20), $"{generator.Written} bytes were written before the receiver stopped reading");
        world.AssertNothingChanged(before);
        Assert.Empty(world.TempFiles());
        await AssertNextRunSucceedsAsync(world, before);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "ip", "nsenter")]
    public async Task A_client_that_disconnects_mid_upload_inside_a_session_leaves_no_temp_file_no_lock_and_no_backup()
    {
        var world = await fixture.WorldAsync();
        var before = world.Capture();
        var prefix = Encoding.ASCII.GetBytes($"hello\nreceive-stream {FaultWorld.Set} {Name(DateTime.UtcNow.AddMinutes(-3))} full\n");
        var payload = Receiver.SshReceiver.Encrypted(8 << 20);
        var client = world.StartHostileClient("session", async (stdin, token) =>
        {
            await stdin.WriteAsync(prefix, token);
            await using var writer = new Bsf1Writer(stdin, leaveOpen: true);
            await writer.WriteAsync(payload, token);
            await writer.FlushAsync(token);
            await Task.Delay(Timeout.Infinite, token); // never the trailer, never EOF: the connection is cut instead
        });
        for (var i = 0; i < 600 && world.TempBytes() < (4 << 20); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(world.TempBytes() >= 4 << 20, $"the upload never got under way: {world.TempBytes()} bytes in temp files");
        client.Kill();
        var outcome = await client.Completion;
        await world.WaitForReceiversToExitAsync();

        Assert.NotEqual(0, outcome.ExitCode);
        world.AssertNothingChanged(before);
        Assert.Empty(world.TempFiles());
        await AssertNextRunSucceedsAsync(world, before);
    }

    private static string Name(DateTime at) => $"prod-srv-rootfs-{at.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";

    private static byte[] Bytes(params object[] parts)
        => [.. parts.SelectMany(p => p is string s ? Encoding.Latin1.GetBytes(s) : (byte[])p)];

    private static byte[] Frame(byte[] payload)
    {
        using var output = new MemoryStream();
        using (var writer = new Bsf1Writer(output, frameLength: 16 * 1024, leaveOpen: true))
        {
            writer.Write(payload);
            writer.CompleteAsync().GetAwaiter().GetResult();
        }

        return output.ToArray();
    }

    private static async Task AssertNextRunSucceedsAsync(FaultWorld world, StoreState before)
    {
        world.ChangeSource();
        var next = await world.RunAsync();
        Assert.True(next.ExitCode == 0, "the producer's next run failed: " + next.Stderr);
        Assert.Equal(before.Manifests.Count + 1, world.Capture().Manifests.Count);
        await world.AssertNoDataLostAsync(before);
    }
}

using System.Text;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Receiver;

/// <summary>
/// The <c>session</c> verb through the real sshd forced command keeps every guarantee the single
/// verbs have there: a client that stalls inside a session is cut off after IDLE_TIMEOUT_SECONDS
/// with its temp file removed and the set free again; the allowed sets are checked per request; a
/// payload that is not OpenPGP-encrypted is refused; and no refusal tells the client (stdout or
/// the stderr sshd forwards) a path on the backup server.
/// </summary>
public sealed class ServeSessionOverSshTests
{
    private const long MiB = 1024 * 1024;

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_session_that_stalls_mid_upload_is_cut_off_after_IDLE_TIMEOUT_SECONDS_and_the_set_is_free_again()
    {
        await using var receiver = await SshReceiver.StartAsync(["IDLE_TIMEOUT_SECONDS=2"]);
        var serverDir = Path.GetDirectoryName(receiver.BackupRootDirPath)!;
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // hello, then an upload: 4 MiB, then the client goes quiet without closing the connection.
        var call = receiver.Start("session", Then($"hello\n{SshReceiver.FullCommand(SshReceiver.Set, name)}\n",
            SshReceiver.Generated(512 * MiB, signalAfterBytes: 4 * MiB, reached: reached, resume: stall.Task)));
        await reached.Task;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await receiver.WaitForReceiversToExitAsync();
        var waited = started.Elapsed;
        stall.SetResult(); // the client's next write meets a closed connection
        var outcome = await call.Completion;

        Assert.True(waited < TimeSpan.FromSeconds(30), $"the receiver ran {waited} after the client stalled");
        Assert.Equal(6, outcome.ExitCode);
        Assert.Equal(3, outcome.Lines.Count);
        Assert.Equal("DONE hello", outcome.Lines[1]);
        Assert.StartsWith("ERR idle-timeout the client sent nothing for 2 seconds", outcome.Lines[2], StringComparison.Ordinal);
        AssertNoServerPath("stall", outcome, serverDir);
        Assert.Empty(receiver.TempFilesIn(SshReceiver.Set));
        Assert.Empty(receiver.FilesIn(SshReceiver.Set));
        Assert.Contains("idle-timeout", await File.ReadAllTextAsync(receiver.LogFilePath), StringComparison.Ordinal);
        var next = await receiver.RunAsync("session", Then(SshReceiver.FullCommand(SshReceiver.Set, name) + "\n", SshReceiver.Framed(SshReceiver.Encrypted(4096))));
        Assert.True(next.ExitCode == 0, next.ToString());
        Assert.Equal("DONE receive-stream", next.Lines[^1]);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Every_refusal_inside_a_session_is_one_ERR_line_that_ends_it_and_names_no_server_path()
    {
        await using var receiver = await SshReceiver.StartAsync(["CLIENT_prod-srv=\"prod-srv/\"", "CLIENT_other=\"other/\""], client: "prod-srv");
        var serverDir = Path.GetDirectoryName(receiver.BackupRootDirPath)!;
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var upload = SshReceiver.FullCommand(SshReceiver.Set, name) + "\n";

        var cases = new List<(string What, SshOutcome Outcome, int Answered, string ErrStart)>
        {
            ("another client's set in the second request", await receiver.RunAsync("session", Then($"list {SshReceiver.Set}\nlist other/x\n")), 1, "ERR forbidden client 'prod-srv' may not use backup set 'other/x'"),
            ("a hostile request line", await receiver.RunAsync("session", Then("hello\nlist ../../etc\n")), 1, "ERR bad-set "),
            ("a plain send stream", await receiver.RunAsync("session", Then(upload, SshReceiver.Framed(Encoding.ASCII.GetBytes("btrfs-stream\0\u0001\0\0\0")))), 0, "ERR not-encrypted "),
            ("an empty payload", await receiver.RunAsync("session", Then(upload, SshReceiver.Framed([]))), 0, "ERR not-encrypted "),
        };
        Assert.Empty(receiver.FilesIn(SshReceiver.Set)); // no stream, manifest or temp file (only the set's lock)

        Directory.Move(receiver.BackupRootDirPath, receiver.BackupRootDirPath + ".unmounted");
        cases.Add(("an upload with BACKUP_ROOT missing", await receiver.RunAsync("session", Then(upload, SshReceiver.Framed(SshReceiver.Encrypted(4096)))), 0, "ERR io-error BACKUP_ROOT does not exist"));

        foreach (var (what, outcome, answered, errStart) in cases)
        {
            Assert.True(outcome.ExitCode != 0, $"{what}: {outcome}");
            Assert.True(outcome.Lines.Count(l => l.StartsWith("DONE ", StringComparison.Ordinal)) == answered, $"{what}: {outcome}");
            Assert.True(outcome.Lines[^1].StartsWith(errStart, StringComparison.Ordinal), $"{what}: {outcome}");
            Assert.True(outcome.Lines[^1].Length > errStart.Length + 20, $"{what}: the ERR line says too little: {outcome}");
            AssertNoServerPath(what, outcome, serverDir);
        }

        Assert.Contains($"BACKUP_ROOT {receiver.BackupRootDirPath} does not exist", await File.ReadAllTextAsync(receiver.LogFilePath), StringComparison.Ordinal);
    }

    /// <summary>Writes <paramref name="lines"/> (request lines, each with its LF), then whatever <paramref name="then"/> writes.</summary>
    private static Func<Stream, CancellationToken, Task> Then(string lines, Func<Stream, CancellationToken, Task>? then = null) => async (stdin, cancellationToken) =>
    {
        await stdin.WriteAsync(Encoding.ASCII.GetBytes(lines), cancellationToken);
        await stdin.FlushAsync(cancellationToken);
        if (then is not null)
        {
            await then(stdin, cancellationToken);
        }
    };

    private static void AssertNoServerPath(string what, SshOutcome outcome, string serverDir)
    {
        Assert.False(outcome.StandardOutputText.Contains(serverDir, StringComparison.Ordinal), $"{what}: stdout names a server path: {outcome}");
        Assert.False(outcome.StandardError.Contains(serverDir, StringComparison.Ordinal), $"{what}: stderr names a server path: {outcome}");
    }
}

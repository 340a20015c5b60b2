using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Receiver;

/// <summary>
/// sshd hands the client both the receiver's stdout and its stderr: neither may name a path on the
/// backup server, while each ERR line still says what was wrong and what to do, and the receiver's
/// LOG_FILE keeps the full detail.
/// </summary>
public sealed class ServeNoServerPathsTests
{
    private const long MiB = 1024 * 1024;

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task No_failure_tells_the_client_a_server_path_while_each_ERR_line_says_what_was_wrong_and_LOG_FILE_has_the_detail()
    {
        await using var receiver = await SshReceiver.StartAsync(["IDLE_TIMEOUT_SECONDS=2"]);
        var serverDir = Path.GetDirectoryName(receiver.BackupRootDirPath)!; // BACKUP_ROOT, LOG_FILE and the config live here
        var stored = SshReceiver.Snapshot(TimeSpan.FromHours(-2));
        var first = await receiver.SendFullAsync(SshReceiver.Set, stored, SshReceiver.Encrypted(4096));
        Assert.True(first.ExitCode == 0, first.ToString());
        var other = SshReceiver.Snapshot(TimeSpan.FromHours(-3));
        Assert.Equal(0, (await receiver.SendFullAsync("prod-srv/corrupt", other, SshReceiver.Encrypted(4096))).ExitCode);
        var manifest = Directory.GetFiles(receiver.SetDirPath("prod-srv/corrupt"), "*.manifest").Single();
        File.SetUnixFileMode(manifest, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(manifest, "garbage\n");
        Directory.CreateSymbolicLink(Path.Combine(receiver.BackupRootDirPath, "linked"), receiver.CanaryDirPath);

        var cases = new List<(string What, SshOutcome Outcome, string ErrStart)>
        {
            ("existing snapshot", await receiver.SendFullAsync(SshReceiver.Set, stored, SshReceiver.Encrypted(4096)), "ERR exists "),
            ("missing parent", await receiver.RunAsync(SshReceiver.IncrementalCommand(SshReceiver.Set, SshReceiver.Snapshot(TimeSpan.FromHours(-1)), SshReceiver.Snapshot(TimeSpan.FromHours(-5))),
                SshReceiver.Framed(SshReceiver.Encrypted(4096))), "ERR missing-parent "),
            ("bad grammar", await receiver.RunAsync("receive-stream ../../etc x full"), "ERR bad-"),
            ("symlinked set dir", await receiver.RunAsync("list linked"), "ERR forbidden "),
            ("get of a missing snapshot", await receiver.RunAsync($"get {SshReceiver.Set} {other}"), "ERR bad-snapshot "),
        };

        var corruptList = await receiver.RunAsync("list prod-srv/corrupt");
        Assert.Equal(0, corruptList.ExitCode);
        AssertNoServerPath("corrupt manifest in list", corruptList, serverDir);

        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stalled = receiver.Start(SshReceiver.FullCommand(SshReceiver.Set, SshReceiver.Snapshot(TimeSpan.FromMinutes(-30))),
            SshReceiver.Generated(512 * MiB, signalAfterBytes: 4 * MiB, reached: reached, resume: stall.Task));
        await reached.Task;
        await SshReceiver.WaitUntilAsync(() => receiver.ReceiverPids().Count > 0, "the stalled upload's receiver");
        await receiver.WaitForReceiversToExitAsync();
        stall.SetResult();
        cases.Add(("stall until the idle timeout", await stalled.Completion, "ERR idle-timeout "));

        Directory.Move(receiver.BackupRootDirPath, receiver.BackupRootDirPath + ".unmounted");
        cases.Add(("missing BACKUP_ROOT on upload", await receiver.SendFullAsync(SshReceiver.Set, SshReceiver.Snapshot(TimeSpan.FromMinutes(-10)), SshReceiver.Encrypted(4096)),
            "ERR io-error BACKUP_ROOT does not exist"));
        cases.Add(("missing BACKUP_ROOT on get", await receiver.RunAsync($"get {SshReceiver.Set} {stored}"), "ERR io-error "));

        foreach (var (what, outcome, errStart) in cases)
        {
            Assert.True(outcome.ExitCode != 0, $"{what}: {outcome}");
            Assert.True(outcome.StandardOutputText.StartsWith(errStart, StringComparison.Ordinal), $"{what}: {outcome}");
            Assert.True(outcome.Lines.Single().Length > errStart.Length + 20, $"{what}: the ERR line says too little: {outcome}");
            AssertNoServerPath(what, outcome, serverDir);
        }

        var log = await File.ReadAllTextAsync(receiver.LogFilePath);
        Assert.Contains($"BACKUP_ROOT {receiver.BackupRootDirPath} does not exist", log, StringComparison.Ordinal);
        Assert.Contains(manifest, log, StringComparison.Ordinal);
    }

    private static void AssertNoServerPath(string what, SshOutcome outcome, string serverDir)
    {
        Assert.False(outcome.StandardOutputText.Contains(serverDir, StringComparison.Ordinal), $"{what}: stdout names a server path: {outcome}");
        Assert.False(outcome.StandardError.Contains(serverDir, StringComparison.Ordinal), $"{what}: stderr names a server path: {outcome}");
    }
}

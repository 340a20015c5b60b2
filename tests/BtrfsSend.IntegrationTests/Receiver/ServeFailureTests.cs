using System.Security.Cryptography;
using BtrfsSend.Core.Manifests;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Receiver;

/// <summary>
/// What a cut connection, a killed receiver and a full disk leave behind, seen through the real
/// sshd and forced command: never a committed stream, never a temp file that outlives the next
/// request on the set, and earlier backups still matching their manifests.
/// </summary>
public sealed class ServeFailureTests
{
    private const long MiB = 1024 * 1024;

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_connection_cut_mid_transfer_commits_nothing_removes_its_temp_file_and_leaves_earlier_backups_intact()
    {
        await using var receiver = await SshReceiver.StartAsync();
        var earlier = await StoreEarlierBackupAsync(receiver);
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = receiver.Start(SshReceiver.FullCommand(SshReceiver.Set, name),
            SshReceiver.Generated(512 * MiB, signalAfterBytes: 8 * MiB, reached: reached, resume: resume.Task));
        await reached.Task;
        await SshReceiver.WaitUntilAsync(() => TempBytes(receiver) >= 4 * MiB, "4 MiB in the receiver's temp file");
        call.Kill();
        resume.SetResult();
        var outcome = await call.Completion;
        await receiver.WaitForReceiversToExitAsync();

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Empty(receiver.TempFilesIn(SshReceiver.Set));
        Assert.Equal(earlier.Files, receiver.FilesIn(SshReceiver.Set));
        AssertStillVerifies(receiver, earlier.Name);
        var list = await receiver.RunAsync($"list {SshReceiver.Set}");
        Assert.StartsWith(earlier.Name + " full - ", Assert.Single(list.Lines), StringComparison.Ordinal);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task An_uploader_that_stalls_longer_than_IDLE_TIMEOUT_SECONDS_is_cut_off_and_the_set_is_free_again()
    {
        await using var receiver = await SshReceiver.StartAsync(["IDLE_TIMEOUT_SECONDS=2"]);
        var earlier = await StoreEarlierBackupAsync(receiver);
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // 4 MiB, then the client goes quiet without closing the connection.
        var call = receiver.Start(SshReceiver.FullCommand(SshReceiver.Set, name),
            SshReceiver.Generated(512 * MiB, signalAfterBytes: 4 * MiB, reached: reached, resume: stall.Task));
        await reached.Task;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await receiver.WaitForReceiversToExitAsync();
        var waited = started.Elapsed;
        stall.SetResult(); // the client's next write meets a closed connection
        var outcome = await call.Completion;

        Assert.True(waited < TimeSpan.FromSeconds(30), $"the receiver ran {waited} after the client stalled");
        Assert.StartsWith("ERR idle-timeout the client sent nothing for 2 seconds", outcome.StandardOutputText, StringComparison.Ordinal);
        Assert.Empty(receiver.TempFilesIn(SshReceiver.Set));
        Assert.Equal(earlier.Files, receiver.FilesIn(SshReceiver.Set));
        Assert.Contains("idle-timeout", await File.ReadAllTextAsync(receiver.LogFilePath), StringComparison.Ordinal);
        var next = await receiver.SendFullAsync(SshReceiver.Set, name, SshReceiver.Encrypted(4096));
        Assert.True(next.ExitCode == 0, next.ToString());
    }

    [Trait("Category", "Fault")]
    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_receiver_killed_mid_write_commits_nothing_and_the_next_list_removes_its_temp_file()
    {
        await using var receiver = await SshReceiver.StartAsync();
        var earlier = await StoreEarlierBackupAsync(receiver);
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var call = receiver.Start(SshReceiver.FullCommand(SshReceiver.Set, name),
            SshReceiver.Generated(512 * MiB, signalAfterBytes: 8 * MiB, reached: reached, resume: resume.Task));
        await reached.Task;
        await SshReceiver.WaitUntilAsync(() => TempBytes(receiver) >= 4 * MiB, "4 MiB in the receiver's temp file");
        var pid = Assert.Single(receiver.ReceiverPids());
        using (var process = System.Diagnostics.Process.GetProcessById(pid))
        {
            process.Kill(); // SIGKILL, this one process only
        }

        resume.SetResult();
        var outcome = await call.Completion;
        await receiver.WaitForReceiversToExitAsync();
        var leftAfterKill = receiver.TempFilesIn(SshReceiver.Set);
        var list = await receiver.RunAsync($"list {SshReceiver.Set}");

        Assert.NotEqual(0, outcome.ExitCode);
        Assert.DoesNotContain("OK ", outcome.StandardOutputText, StringComparison.Ordinal);
        Assert.Single(leftAfterKill); // SIGKILL leaves the temp file; nothing else can remove it
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.StartsWith(earlier.Name + " full - ", Assert.Single(list.Lines), StringComparison.Ordinal);
        Assert.Empty(receiver.TempFilesIn(SshReceiver.Set));
        Assert.Equal(earlier.Files, receiver.FilesIn(SshReceiver.Set));
        AssertStillVerifies(receiver, earlier.Name);
    }

    [Trait("Category", "Fault")]
    [RealFact("/usr/sbin/sshd", "ssh", "sudo", "mkfs.btrfs", "losetup")]
    public async Task A_stream_larger_than_the_free_space_fails_with_no_space_and_commits_nothing()
    {
        await using var disk = await BtrfsLoopFixture.CreateAsync("recv-full");
        var root = disk.PathOf("backups");
        await using var receiver = await SshReceiver.StartAsync(["MIN_FREE_SPACE=0"], backupRootDirPath: root);
        var earlier = await StoreEarlierBackupAsync(receiver);
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));

        var outcome = await receiver.RunAsync(SshReceiver.FullCommand(SshReceiver.Set, name), SshReceiver.Generated(400 * MiB));
        await receiver.WaitForReceiversToExitAsync();
        var list = await receiver.RunAsync($"list {SshReceiver.Set}");

        Assert.Equal(10, outcome.ExitCode);
        Assert.Matches("^ERR (no-space|io-error) ", Assert.Single(outcome.Lines));
        Assert.Empty(receiver.TempFilesIn(SshReceiver.Set));
        Assert.Equal(earlier.Files, receiver.FilesIn(SshReceiver.Set));
        AssertStillVerifies(receiver, earlier.Name);
        Assert.StartsWith(earlier.Name + " full - ", Assert.Single(list.Lines), StringComparison.Ordinal);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_second_upload_to_a_busy_set_is_refused_while_an_upload_to_another_set_runs_in_parallel()
    {
        await using var receiver = await SshReceiver.StartAsync();
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-1));
        var other = SshReceiver.Snapshot(TimeSpan.FromHours(-2));
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var payload = SshReceiver.Encrypted(256 * 1024);

        // The first upload trickles: one MiB, then it waits until the test lets it finish.
        var slow = receiver.Start(SshReceiver.FullCommand(SshReceiver.Set, name),
            SshReceiver.Generated(2 * MiB, signalAfterBytes: MiB, reached: reached, resume: resume.Task));
        await reached.Task;
        await SshReceiver.WaitUntilAsync(() => receiver.TempFilesIn(SshReceiver.Set).Count == 1, "the first upload's temp file");
        var sameSet = await receiver.SendFullAsync(SshReceiver.Set, other, payload);
        var otherSet = await receiver.SendFullAsync("prod-srv/home", other, payload);
        var listWhileBusy = await receiver.RunAsync($"list {SshReceiver.Set}");
        var tempWhileBusy = receiver.TempFilesIn(SshReceiver.Set);
        resume.SetResult();
        var first = await slow.Completion;

        Assert.Equal(4, sameSet.ExitCode);
        Assert.StartsWith("ERR busy ", Assert.Single(sameSet.Lines), StringComparison.Ordinal);
        Assert.True(otherSet.ExitCode == 0, otherSet.ToString());
        Assert.Equal($"OK {Convert.ToHexStringLower(SHA256.HashData(payload))} {payload.Length}", Assert.Single(otherSet.Lines));
        Assert.True(listWhileBusy.ExitCode == 0, listWhileBusy.ToString());
        Assert.Empty(listWhileBusy.Lines);
        Assert.Single(tempWhileBusy); // list must not remove the temp file of a running upload
        Assert.True(first.ExitCode == 0, first.ToString());
        var (sha, bytes) = SshReceiver.GeneratedDigest(2 * MiB);
        Assert.Equal($"OK {sha} {bytes}", Assert.Single(first.Lines));
        Assert.Equal(new[] { $"{name}.full.btrfs.gpg", $"{name}.manifest" }, receiver.FilesIn(SshReceiver.Set));
    }

    private static long TempBytes(SshReceiver receiver)
        => receiver.TempFilesIn(SshReceiver.Set).Sum(n => new FileInfo(Path.Combine(receiver.SetDirPath(SshReceiver.Set), n)).Length);

    private static async Task<(string Name, IReadOnlyList<string> Files)> StoreEarlierBackupAsync(SshReceiver receiver)
    {
        var name = SshReceiver.Snapshot(TimeSpan.FromHours(-5));
        var outcome = await receiver.SendFullAsync(SshReceiver.Set, name, SshReceiver.Encrypted((int)(2 * MiB)));
        Assert.True(outcome.ExitCode == 0, outcome.ToString());
        return (name, receiver.FilesIn(SshReceiver.Set));
    }

    /// <summary>The stored stream's size and SHA-256 still match its manifest.</summary>
    private static void AssertStillVerifies(SshReceiver receiver, string name)
    {
        var dir = receiver.SetDirPath(SshReceiver.Set);
        var parsed = ManifestReader.Parse(File.ReadAllBytes(Path.Combine(dir, $"{name}.manifest")), name);
        Assert.True(parsed.IsValid, string.Join("; ", parsed.Errors));
        var stream = Path.Combine(dir, parsed.Manifest!.StreamFile);
        Assert.Equal(parsed.Manifest.StreamBytes, new FileInfo(stream).Length);
        Assert.Equal(parsed.Manifest.StreamSha256, SshReceiver.Sha256Of(stream));
    }
}

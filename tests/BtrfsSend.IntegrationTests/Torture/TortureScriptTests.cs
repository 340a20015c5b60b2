using System.Globalization;
using BtrfsSend.Core.Processes;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Torture;

/// <summary>
/// scripts/torture.sh, short: 20 real producer runs over the real sshd forced command (sudo, the
/// real receiver, loop btrfs), each hit at a random moment by one of its seven faults (SIGKILL of
/// the producer, its ssh client, the receiver or the sshd session; ss -K; an nft blackhole;
/// BACKUP_ROOT full), with the script's invariants checked after every run and a restore of the
/// newest compared with its source at the end. Its --seed is random and named in any failure, so
/// a failing schedule can be rerun with <c>scripts/torture.sh --seed S</c>.
/// </summary>
[Trait("Category", "Torture")]
public sealed class TortureScriptTests
{
    private const int Runs = 20;

    [RealFact("mkfs.btrfs", "btrfs", "losetup", "unshare", "/usr/sbin/sshd", "ssh", "ssh-keygen", "sudo", "visudo", "useradd", "gpg", "nft", "ss", "python3", "fallocate", "flock")]
    public async Task Twenty_randomly_interrupted_runs_break_no_invariant_and_the_newest_backup_restores_identical()
    {
        var seed = Random.Shared.Next(0, 1_000_000_000).ToString(CultureInfo.InvariantCulture);
        var output = Path.Combine(TempDir.Root, $"torture-{seed}-{Guid.NewGuid().ToString("N")[..8]}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));

        // The Release build test.sh made is the one tested (--no-build); the doc is left alone (--no-doc).
        var result = await new ToolRunner().TryRunAsync(
            ["bash", RepoPaths.Of("scripts", "torture.sh"), "--runs", Runs.ToString(CultureInfo.InvariantCulture), "--seed", seed,
             "--no-build", "--no-doc", "--output", output],
            cancellationToken: timeout.Token);

        var summaryPath = Path.Combine(output, "summary.env");
        var where = $"seed {seed}, evidence in {output} (torture.log, runs/*/); stderr tail:\n{result.StandardErrorTail}";
        Assert.True(File.Exists(summaryPath), $"torture.sh wrote no summary (exit {result.ExitCode}); {where}");
        var summary = File.ReadAllLines(summaryPath)
            .Select(l => l.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);

        Assert.True(summary["violations"] == "0", $"invariant violations: {string.Join(", ", summary.Where(kv => kv.Key.StartsWith("violations_", StringComparison.Ordinal) && kv.Value != "0").Select(kv => $"{kv.Key}={kv.Value}"))}; {where}");
        Assert.True(result.ExitCode == 0, $"torture.sh exited {result.ExitCode}; {where}");
        Assert.Equal(Runs.ToString(CultureInfo.InvariantCulture), summary["runs"]);

        // Every kind took its turn, and the faults really struck: a harness whose faults all miss
        // (a run that ends before the moment) would pass without testing anything.
        foreach (var kind in new[] { "producer", "ssh", "receiver", "sshd", "reset", "blackhole", "fill" })
        {
            Assert.True(int.Parse(summary[$"kind_{kind}"], CultureInfo.InvariantCulture) >= 2, $"fault {kind} ran {summary[$"kind_{kind}"]} times of {Runs}; {where}");
        }

        var hit = int.Parse(summary["hit"], CultureInfo.InvariantCulture);
        Assert.True(hit >= Runs / 2, $"only {hit} of {Runs} runs were interrupted while the producer ran; {where}");

        Directory.Delete(output, recursive: true);
    }
}

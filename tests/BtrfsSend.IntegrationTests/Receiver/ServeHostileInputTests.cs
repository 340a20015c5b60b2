using System.Text.RegularExpressions;
using BtrfsSend.Core.Naming;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Receiver;

/// <summary>
/// The hostile-input corpus sent as <c>SSH_ORIGINAL_COMMAND</c> through the real sshd, forced
/// command and sudo: every one must come back as one <c>ERR</c> line and a refusal exit code,
/// create nothing under BACKUP_ROOT, and run nothing (the canary dir stays empty).
/// </summary>
public sealed partial class ServeHostileInputTests
{
    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Every_hostile_command_over_ssh_is_refused_with_one_ERR_line_and_changes_nothing()
    {
        await using var receiver = await SshReceiver.StartAsync(["CLIENT_prod-srv=\"prod-srv/\""], client: "prod-srv");
        var c = receiver.CanaryDirPath;
        var now = SshReceiver.Snapshot(TimeSpan.FromMinutes(-5));
        string[] corpus =
        [
            $"hello; touch {c}/semicolon",
            $"hello;touch {c}/semicolon2",
            $"hello && touch {c}/and",
            $"hello || touch {c}/or",
            $"hello | touch {c}/pipe",
            $"hello & touch {c}/background",
            $"hello\ntouch {c}/newline",
            $"hello\rtouch {c}/cr",
            $"list prod-srv/rootfs$(touch {c}/subst)",
            $"list $(touch {c}/subst2)",
            $"list `touch {c}/backtick`",
            $"list prod-srv/rootfs > {c}/redirect",
            $"list prod-srv/rootfs>{c}/redirect2",
            $"list prod-srv/rootfs < /etc/shadow",
            $"list 'prod-srv/rootfs'; touch '{c}/single'",
            $"list \"prod-srv/rootfs\"; touch \"{c}/double\"",
            $"list prod-srv/rootfs;touch${{IFS}}{c}/ifs",
            $"receive-stream prod-srv/rootfs {now} full; touch {c}/after-receive",
            $"receive-stream prod-srv/rootfs {now} full\nlist prod-srv/rootfs",
            "list ../../etc",
            "list prod-srv/../../etc",
            "list prod-srv/rootfs/..",
            "list /etc",
            "list /",
            $"receive-stream /etc {now} full",
            $"receive-stream ../prod-srv/rootfs {now} full",
            $"receive-stream prod-srv/rootfs ../../{now} full",
            $"receive-stream prod-srv/rootfs /etc/{now} full",
            "get prod-srv/rootfs /etc/shadow",
            "get prod-srv/rootfs ../../../etc/shadow-20240101T000000Z",
            "--help",
            "-h",
            "--version",
            "@/etc/shadow",
            "list @/etc/shadow",
            "--config=/etc/shadow list prod-srv/rootfs",
            "--config /etc/shadow",
            "--client other list other/x",
            "list --client=other other/x",
            $"receive-stream --force prod-srv/rootfs {now} full",
            $"receive-stream prod-srv/rootfs {now} --full",
            "list -o",
            "serve -- hello",
            "prune --all",
            "check",
            "list",
            "HELLO",
            "hello ",
            " hello",
            "hello  ",
            "list  prod-srv/rootfs",
            "list\tprod-srv/rootfs",
            "hello\u200b",
            "\u0433et prod-srv/rootfs x",
            "\uff48\uff45\uff4c\uff4c\uff4f",
            "hello\x1b[2J",
            "list " + new string('a', 100 * 1024),
            "hello " + new string('x', 2000),
            "",
        ];
        var outcomes = new (string Command, SshOutcome Outcome)[corpus.Length];

        await Parallel.ForEachAsync(Enumerable.Range(0, corpus.Length), new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (i, _) => outcomes[i] = (corpus[i], await receiver.RunAsync(corpus[i])));

        var wrong = outcomes
            .Where(o => o.Outcome.ExitCode != 5 || o.Outcome.Lines.Count != 1 || !ErrLinePattern().IsMatch(o.Outcome.Lines[0]))
            .Select(o => $"{NameText.Printable(o.Command.Length > 80 ? o.Command[..80] + "..." : o.Command)} => {o.Outcome}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Empty(Directory.GetFileSystemEntries(c));
        Assert.Empty(receiver.EverythingUnderRoot());
        Assert.All(outcomes, o => Assert.Contains("refused", o.Outcome.StandardError, StringComparison.Ordinal));
        var log = await File.ReadAllTextAsync(receiver.LogFilePath);
        Assert.Contains($"client prod-srv refused (bad-command): ", log, StringComparison.Ordinal);
        Assert.Contains($"command: hello; touch {c}/semicolon", log, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^ERR [a-z][a-z-]{0,31} [ -~]{1,1000}$")]
    private static partial Regex ErrLinePattern();
}

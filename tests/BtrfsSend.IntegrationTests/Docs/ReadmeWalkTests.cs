using System.Text;
using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>
/// The README followed from top to bottom, for real: every <c>```sh</c> block from "Install" to
/// the end of "Production server setup" runs in order, unchanged, as one bash script with
/// <c>set -e</c>, on a test bed that plays both servers — unless the line before it is
/// <c>&lt;!-- walk: skip REASON --&gt;</c>. It ends with the README's first backup, the monitoring
/// check, a real restore and the restore drill.
/// </summary>
/// <remarks>
/// The test bed substitutes only what this machine forces, in a private mount and network
/// namespace (nothing leaks to the machine): a copy of /etc (users, sudoers, sshd, fstab, hosts
/// written by the README land there; <c>backup-srv</c> resolves to 127.0.0.1 and sshd listens on
/// port 22 of a private loopback); empty /usr/local, /var/lib, /root, /mnt and /run; loop btrfs
/// disks for backup-srv's <c>/dev/sdb1</c> (its UUID replaces <c>YOUR-DISK-UUID</c>, the only
/// text substitution) and for prod-srv's top-level volume mounted at /mnt/btrfs-root with
/// <c>@rootfs</c>; <c>out/</c> holding the programs these tests were built with (scripts/build.sh
/// takes minutes); in /usr/local/bin (first on sudo's secure_path) a fake <c>systemctl</c> (no
/// systemd here; <c>reload ssh</c> starts the namespace's own sshd) and a <c>sudoedit</c> that
/// makes the edits the README asks for instead of opening an editor.
/// </remarks>
public sealed partial class ReadmeWalkTests
{
    private const string FirstSection = "## Install";
    private const string EndSection = "## Coming from the shell scripts";

    /// <summary>One <c>```sh</c> block of the walked sections: its first line number, section, text and skip reason (null = runs).</summary>
    internal sealed record Block(int Line, string Section, string Text, string? SkipReason);

    internal static IReadOnlyList<Block> WalkedBlocks(string readme, List<string> problems)
    {
        var lines = readme.Split('\n');
        var blocks = new List<Block>();
        var start = Array.IndexOf(lines, FirstSection);
        var end = Array.IndexOf(lines, EndSection);
        if (start < 0 || end < start)
        {
            problems.Add($"the README has no '{FirstSection}' followed by '{EndSection}'");
            return blocks;
        }

        var section = FirstSection;
        for (var i = start; i < end; i++)
        {
            var line = lines[i];
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                section = line;
            }

            if (line.StartsWith("<!-- walk", StringComparison.Ordinal))
            {
                var next = i + 1 < lines.Length ? lines[i + 1] : "";
                if (next != "```sh")
                {
                    problems.Add($"README line {i + 1}: a walk marker must stand right before a ```sh block");
                }
                else if (Marker().Match(line) is not { Success: true } marker || marker.Groups[1].Value.Trim().Length == 0)
                {
                    problems.Add($"README line {i + 1}: '{line}' is not '<!-- walk: skip REASON -->' with a reason");
                }
            }

            if (line != "```sh")
            {
                continue;
            }

            var close = Array.IndexOf(lines, "```", i + 1);
            if (close < 0)
            {
                problems.Add($"README line {i + 1}: the ```sh block is never closed");
                break;
            }

            var previous = i > 0 ? lines[i - 1] : "";
            var skip = Marker().Match(previous) is { Success: true } m ? m.Groups[1].Value.Trim() : null;
            blocks.Add(new Block(i + 2, section, string.Join('\n', lines[(i + 1)..close]), skip));
            i = close;
        }

        return blocks;
    }

    [Fact]
    public void Every_setup_block_of_the_README_runs_in_the_walk_or_says_why_not_and_backup_srv_comes_first()
    {
        var problems = new List<string>();
        var blocks = WalkedBlocks(File.ReadAllText(RepoPaths.Of("README.md")), problems);

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        var runs = blocks.Where(b => b.SkipReason is null).ToList();
        Assert.True(runs.Count >= 4, $"only {runs.Count} blocks run: the walk would prove nothing");
        Assert.All(blocks.Where(b => b.SkipReason is not null), b => Assert.True(b.SkipReason!.Length >= 10, $"README line {b.Line}: say why it is skipped"));
        var sections = runs.Select(b => b.Section).Distinct().ToList();
        Assert.Equal(["## Backup server setup (backup-srv)", "## Production server setup (prod-srv)"], sections);
        Assert.Contains("sudo btrfs-send-backup verify --restore-test", runs[^1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_after_a_marker_without_a_reason_or_an_orphan_marker_is_reported()
    {
        var problems = new List<string>();
        WalkedBlocks($"{FirstSection}\n<!-- walk: skip -->\n```sh\ntrue\n```\n<!-- walk: skip stray -->\ntext\n{EndSection}\n", problems);

        Assert.Equal(2, problems.Count);
        Assert.Contains("is not '<!-- walk: skip REASON -->' with a reason", problems[0], StringComparison.Ordinal);
        Assert.Contains("must stand right before a ```sh block", problems[1], StringComparison.Ordinal);
    }

    [RealFact("mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "ssh-keygen", "sudo", "visudo", "adduser", "openssl", "unshare", "ip", "findmnt", "blkid")]
    public async Task The_README_setup_runs_top_to_bottom_on_the_test_bed_through_a_backup_check_restore_and_drill()
    {
        var problems = new List<string>();
        var blocks = WalkedBlocks(File.ReadAllText(RepoPaths.Of("README.md")), problems);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        using var dir = new TempDir("walk");
        await using var backupDisk = await BtrfsLoopFixture.CreateAsync("walksdb1", 512L * 1024 * 1024);
        await using var prodDisk = await BtrfsLoopFixture.CreateAsync("walkprod", 512L * 1024 * 1024);
        BtrfsLoopFixture.PopulateSample(await prodDisk.CreateSubvolumeAsync("@rootfs"));
        var backupDevice = (await Run.OutAsync("findmnt", "-no", "SOURCE", backupDisk.MountDirPath)).Trim();
        var prodDevice = (await Run.OutAsync("findmnt", "-no", "SOURCE", prodDisk.MountDirPath)).Trim();
        var backupUuid = (await Run.OutAsync("blkid", "-s", "UUID", "-o", "value", backupDevice)).Trim();
        var checkout = PrepareCheckout(dir);
        using var systemctl = new FakeSystemctl(null, ["nginx"]);
        var script = new StringBuilder(TestBed(dir.DirPath, checkout, prodDevice, systemctl.BinDirPath));
        foreach (var block in blocks)
        {
            script.Append(CultureInfo($"\n# ---- README line {block.Line} ({block.Section})\n"));
            script.Append(block.SkipReason is null
                ? block.Text.Replace("YOUR-DISK-UUID", backupUuid, StringComparison.Ordinal) + "\n"
                : $"# skipped: {block.SkipReason}\n");
        }

        script.Append(Epilogue);
        await File.WriteAllTextAsync(dir.Sub("walk.sh"), script.ToString());

        var output = new StringBuilder();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var result = await Cli.Wrap("unshare")
            .WithArguments(["--mount", "--net", "--propagation", "private", "bash", dir.Sub("walk.sh")])
            .WithWorkingDirectory(checkout)
            .WithEnvironmentVariables(e => e.Set("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").Set("HOME", "/root"))
            .WithValidation(CommandResultValidation.None)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(output))
            .ExecuteAsync(limit.Token);
        var log = output.ToString();

        Assert.True(result.ExitCode == 0, $"the README walk failed (exit {result.ExitCode}); the last lines:\n{string.Join('\n', log.Split('\n').TakeLast(40))}");
        Assert.Contains("walk: the ingest user may run exactly the installed receiver", log, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^BTRFS-BACKUP OK - 1 set\(s\), 1 stream\(s\)", log);
        Assert.Matches(@"(?m)^OK: restore test of prod-srv/rootfs/prod-srv-rootfs-\d{8}T\d{6}Z \(1 links, .*\) restored and canary matched", log);
        Assert.Contains("walk: every cron job calls an installed program by its absolute path", log, StringComparison.Ordinal);
        Assert.Equal(["stop nginx", "start nginx"], systemctl.StopsAndStarts.Where(l => l.Contains("nginx", StringComparison.Ordinal)).Take(2).ToList());
        Assert.Contains("walk: done", log, StringComparison.Ordinal);
    }

    private static string CultureInfo(FormattableString text) => FormattableString.Invariant(text);

    /// <summary>A checkout holding what the README's commands read (scripts/, examples/, docs/man/) and out/ with the tests' programs.</summary>
    private static string PrepareCheckout(TempDir dir)
    {
        var checkout = dir.Sub("checkout");
        foreach (var sub in new[] { "scripts", "examples", Path.Combine("docs", "man") })
        {
            CopyTree(RepoPaths.Of(sub), Path.Combine(checkout, sub));
        }

        Directory.CreateDirectory(Path.Combine(checkout, "out"));
        foreach (var (name, built) in new[] { ("btrfs-send-backup", ProgramBinaries.Producer), ("btrfs-backup-receive", ProgramBinaries.Receiver) })
        {
            var path = Path.Combine(checkout, "out", name);
            File.WriteAllText(path, $"#!/bin/sh\n# stands in for scripts/build.sh's single-file build: the program these tests were built with\nexec {built} \"$@\"\n");
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }

        // The walk runs as root from a directory only root may write, like a checkout in /root.
        File.SetUnixFileMode(dir.DirPath, (UnixFileMode)0b111_101_101);
        return checkout;
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            var target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }

        foreach (var sub in Directory.GetDirectories(from))
        {
            CopyTree(sub, Path.Combine(to, Path.GetFileName(sub)));
        }
    }

    /// <summary>The namespace's test bed (see the class remarks), then the README's blocks follow.</summary>
    private static string TestBed(string dirPath, string checkout, string prodDevice, string fakeBinDirPath) => $$"""
        #!/bin/bash
        # The README walk: generated by ReadmeWalkTests; runs inside unshare --mount --net.
        set -Eeuo pipefail
        set -x
        W={{dirPath}}
        trap 'rc=$?; [ -s /run/sshd.pid ] && kill "$(cat /run/sshd.pid)" 2>/dev/null; exit $rc' EXIT
        # ---- the test bed: what this machine forces
        ip link set lo up
        cp -a /etc "$W/etc"
        mount --bind "$W/etc" /etc
        mount -t tmpfs -o mode=0700 tmpfs /root
        for d in /usr/local/sbin /usr/local/bin /usr/local/share/man /var/lib /mnt /run; do
          mkdir -p "$d"
          mount -t tmpfs -o mode=0755 tmpfs "$d"
        done
        mkdir -p /run/sshd /etc/cron.d /etc/ssh/sshd_config.d /etc/sudoers.d
        echo '127.0.0.1 backup-srv prod-srv' >> /etc/hosts
        # prod-srv's top-level btrfs volume, with @rootfs
        mkdir -p /mnt/btrfs-root
        mount {{prodDevice}} /mnt/btrfs-root
        # no systemd: systemctl is the shared fake (services), and "reload ssh" starts this namespace's sshd
        cat > /usr/local/bin/systemctl <<'EOF'
        #!/bin/sh
        if [ "$1" = reload ] && [ "$2" = ssh ]; then
          if [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then exec kill -HUP "$(cat /run/sshd.pid)"; fi
          exec /usr/sbin/sshd
        fi
        exec {{fakeBinDirPath}}/systemctl "$@"
        EOF
        # no editor: sudoedit makes the edits the README asks for
        cat > /usr/local/bin/sudoedit <<'EOF'
        #!/bin/sh
        set -e
        case "$1" in
          /var/lib/btrfs-ingest/.ssh/authorized_keys)
            # the example's line, with prod-srv's address and its real key
            key=$(cat /root/.ssh/btrfs-backup_ed25519.pub)
            grep '^restrict,' {{checkout}}/examples/backup-srv/authorized_keys \
              | sed -e 's/from="[^"]*"/from="127.0.0.1"/' -e "s|ssh-ed25519 AAAA.*|$key|" > "$1" ;;
          /etc/default/btrfs-backup-receive)
            # size MIN_FREE_SPACE for this 512 MiB disk
            grep -q '^MIN_FREE_SPACE=' "$1"
            sed -i 's/^MIN_FREE_SPACE=[^ ]*/MIN_FREE_SPACE=64M/' "$1" ;;
          /etc/btrfs-send-backup/prod.conf)
            # this prod-srv runs one service; the other keys fit it as they are
            grep -q '^SERVICES_TO_QUIESCE=' "$1"
            sed -i 's/^SERVICES_TO_QUIESCE=.*/SERVICES_TO_QUIESCE=(nginx)/' "$1" ;;
          *) echo "sudoedit: the README walk does not know what to write into $1" >&2; exit 1 ;;
        esac
        EOF
        chmod 0755 /usr/local/bin/systemctl /usr/local/bin/sudoedit
        cd {{checkout}}

        """;

    private const string Epilogue = """

        # ---- what the walk checks beyond "every command succeeded"
        sudo -l -U btrfs-ingest | grep -q '(root) NOPASSWD: /usr/local/sbin/btrfs-backup-receive serve \*'
        echo "walk: the ingest user may run exactly the installed receiver"
        for job in $(grep -hE '^[0-9*]' /etc/cron.d/btrfs-* | grep -oE '(/[^ ]+/)?btrfs-(send-backup|backup-receive)( |$)' | tr -d ' '); do
          case "$job" in /*) [ -x "$job" ] ;; *) echo "walk: cron calls '$job' by a bare name: not on cron's PATH" >&2; exit 1 ;; esac
        done
        echo "walk: every cron job calls an installed program by its absolute path"
        echo "walk: done"

        """;

    [GeneratedRegex(@"^<!-- walk: skip(.*) -->$")]
    private static partial Regex Marker();
}

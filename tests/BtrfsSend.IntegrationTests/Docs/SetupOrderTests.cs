using System.Text.RegularExpressions;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Docs;

/// <summary>
/// The README can be followed from top to bottom: backup-srv is set up before prod-srv talks to
/// it, the backup disk is mounted before BACKUP_ROOT is made on it, files land where their own
/// headers say, every command shown for cron, NRPE or Icinga calls the programs where
/// scripts/install.sh puts them, and what the README walk cannot prove (the SDK, sizing
/// MIN_FREE_SPACE, the canary's live write) is said where a sysadmin reads it.
/// </summary>
public sealed partial class SetupOrderTests
{
    private const string InstallDir = "/usr/local/sbin";
    private static readonly string Readme = File.ReadAllText(RepoPaths.Of("README.md"));

    [Fact]
    public void The_backup_server_section_and_its_last_step_come_before_prod_srv_first_talks_to_it()
    {
        var backup = Readme.IndexOf("## Backup server setup (backup-srv)", StringComparison.Ordinal);
        var prod = Readme.IndexOf("## Production server setup (prod-srv)", StringComparison.Ordinal);
        var sshdReload = Readme.IndexOf("sudo sshd -t && sudo systemctl reload ssh", StringComparison.Ordinal);
        var firstContact = new[] { "btrfs-ingest@backup-srv -- hello", "sudo btrfs-send-backup --dry-run", "sudo btrfs-send-backup " }
            .Select(c => Readme.IndexOf(c, StringComparison.Ordinal)).Where(i => i >= 0).Min();

        Assert.True(backup > 0 && prod > 0 && sshdReload > 0);
        Assert.True(backup < prod, "the backup-srv section must come first");
        Assert.True(sshdReload < firstContact, "prod-srv's first hello must come after backup-srv's sshd is set up");
    }

    [Fact]
    public void The_backup_disk_is_mounted_with_an_fstab_line_before_BACKUP_ROOT_is_created_on_it()
    {
        var fstab = Readme.IndexOf("/mnt/sdb1 btrfs defaults,nofail 0 0' | sudo tee -a /etc/fstab", StringComparison.Ordinal);
        var mount = Readme.IndexOf("sudo mount /mnt/sdb1", StringComparison.Ordinal);
        var root = Readme.IndexOf("sudo install -d -m 0750 -o root -g root /mnt/sdb1/btrfs-send-backups", StringComparison.Ordinal);

        Assert.True(fstab > 0 && mount > fstab && root > mount, $"fstab {fstab}, mount {mount}, BACKUP_ROOT {root}");
    }

    [Fact]
    public void Every_example_file_the_README_installs_lands_under_the_name_its_own_header_gives()
    {
        var installs = InstallLine().Matches(Readme).ToList();

        Assert.NotEmpty(installs);
        foreach (Match install in installs)
        {
            var source = install.Groups[1].Value;
            var target = install.Groups[2].Value;
            var header = File.ReadLines(RepoPaths.Of(source)).First();
            var named = HeaderPath().Match(header);
            if (named.Success)
            {
                var expected = named.Groups[1].Value;
                Assert.True(target == expected || (target.EndsWith('/') && target + Path.GetFileName(source) == expected),
                    $"README installs {source} as {target}, its header says {expected}");
            }
        }
    }

    [Fact]
    public void The_monitoring_sudoers_line_allows_a_bare_check_and_the_NRPE_line_is_shown()
    {
        var sudoers = Readme.Split('\n').Single(l => l.StartsWith("nagios ALL=(root) NOPASSWD:", StringComparison.Ordinal));
        var commands = sudoers["nagios ALL=(root) NOPASSWD:".Length..].Split(',', StringSplitOptions.TrimEntries);

        Assert.Contains($"{InstallDir}/btrfs-backup-receive check", commands);
        Assert.Contains(Readme.Split('\n'), l => l.StartsWith("command[check_btrfs_backup]=/usr/bin/sudo -n " + InstallDir + "/btrfs-backup-receive check", StringComparison.Ordinal));
    }

    [Fact]
    public void Cron_NRPE_and_Icinga_commands_in_the_docs_call_the_programs_where_install_sh_puts_them()
    {
        Assert.Contains($"prefix=${{1:-{InstallDir}}}", File.ReadAllText(RepoPaths.Of("scripts", "install.sh")), StringComparison.Ordinal);
        var files = new[] { RepoPaths.Of("README.md") }
            .Concat(Directory.GetFiles(RepoPaths.Of("docs"), "*.md"))
            .Concat(Directory.GetFiles(RepoPaths.Of("examples"), "*", SearchOption.AllDirectories));
        var checkedLines = 0;
        var wrong = new List<string>();
        foreach (var file in files)
        {
            foreach (var line in File.ReadLines(file))
            {
                var text = line.TrimStart('#', ' ');
                if (!(CronLine().IsMatch(text) || text.StartsWith("command[", StringComparison.Ordinal) || text.StartsWith("command = [", StringComparison.Ordinal) || text.StartsWith("ExecStart=", StringComparison.Ordinal)))
                {
                    continue;
                }

                foreach (Match program in ProgramWord().Matches(text))
                {
                    checkedLines++;
                    if (program.Groups[1].Value != InstallDir + "/")
                    {
                        wrong.Add($"{Path.GetRelativePath(RepoPaths.Of(), file)}: {line.Trim()}");
                    }
                }
            }
        }

        Assert.True(checkedLines >= 5, $"only {checkedLines} commands found: the scanner is broken");
        Assert.True(wrong.Count == 0, "not called by the installed path:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void The_setup_says_what_a_first_deployment_needs_beyond_the_commands_the_walk_runs()
    {
        var install = Section("## Install");
        var backup = Section("## Backup server setup (backup-srv)");
        var prod = Section("## Production server setup (prod-srv)");

        Assert.Contains("the .NET 10 SDK", install, StringComparison.Ordinal);
        Assert.Contains("size MIN_FREE_SPACE for the", backup, StringComparison.Ordinal);
        Assert.Contains("less than half of what is free on the empty disk", backup, StringComparison.Ordinal);
        Assert.Contains("ssh -o StrictHostKeyChecking=accept-new ", prod, StringComparison.Ordinal);
        Assert.Contains("scratch directory must be on btrfs", prod, StringComparison.Ordinal);
        Assert.Contains("is written by every run into the **live** source", prod, StringComparison.Ordinal);
        Assert.Contains("BACKUP_SET, SERVICES_TO_QUIESCE, CANARY_FILE", prod, StringComparison.Ordinal);
    }

    /// <summary>The README from <paramref name="heading"/> to the next <c>## </c> heading.</summary>
    private static string Section(string heading)
    {
        var start = Readme.IndexOf("\n" + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"the README has no '{heading}'");
        var end = Readme.IndexOf("\n## ", start + heading.Length + 2, StringComparison.Ordinal);
        return end < 0 ? Readme[start..] : Readme[start..end];
    }

    // "sudo install -m 0644 examples/x/y /etc/z" (the target may be a directory ending in '/').
    [GeneratedRegex(@"sudo install -m 0\d{3} (examples/\S+) (/\S+)")]
    private static partial Regex InstallLine();

    // A first line such as "# /etc/ssh/sshd_config.d/btrfs-ingest.conf — ...".
    [GeneratedRegex(@"^# (/(?:etc|var)/\S+)")]
    private static partial Regex HeaderPath();

    // "30 4 * * 0  root  ..." or "17 3 * * * root ...": five time fields and a user.
    [GeneratedRegex(@"^[0-9*/,-]+\s+[0-9*/,-]+\s+[0-9*/,-]+\s+[0-9*/,-]+\s+[0-9*/,-]+\s+\w+\s")]
    private static partial Regex CronLine();

    // A program name with whatever path is in front of it ("" when bare).
    [GeneratedRegex(@"(?<![\w-])((?:/[\w.-]+)*/|)(?:btrfs-send-backup|btrfs-backup-receive)(?![\w./-])")]
    private static partial Regex ProgramWord();
}

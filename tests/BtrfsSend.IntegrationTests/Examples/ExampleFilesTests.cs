using System.Text.RegularExpressions;
using BtrfsSend.Core.Configuration;
using BtrfsSend.IntegrationTests.Docs;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Examples;

/// <summary>The files in examples/ are what users copy: they must load without a single error or warning.</summary>
[Collection(ProgramHelpCollection.Name)]
public sealed partial class ExampleFilesTests(ProgramHelp help)
{
    private static readonly IReadOnlyDictionary<string, string?> NoOverrides = new Dictionary<string, string?>();

    public static TheoryData<string> ServiceUnits => new(Directory
        .EnumerateFiles(RepoPaths.Of("examples"), "*.service", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(RepoPaths.Root, f))
        .Order(StringComparer.Ordinal));

    [Fact]
    public void The_receiver_defaults_example_loads_cleanly_with_the_documented_values()
    {
        var result = ConfigLoader.LoadReceiver(RepoPaths.Of("examples", "backup-srv", "btrfs-backup-receive"), NoOverrides, NoOverrides);

        Assert.Empty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Equal("/mnt/sdb1/btrfs-send-backups", result.Options!.BackupRootDirPath);
        Assert.Equal(7, result.Options.Keep.Daily);
        Assert.Equal(10L << 30, result.Options.MinFreeSpace);
        Assert.True(result.Options.AllowGet);
    }

    [RealFact("visudo")]
    public async Task The_sudoers_example_is_valid_sudoers_syntax()
    {
        var result = await Run.TryAsync("visudo", "-cqf", RepoPaths.Of("examples", "backup-srv", "sudoers.d-btrfs-ingest"));

        Assert.True(result.IsSuccess, result.StandardErrorTail);
    }

    [Fact]
    public void The_authorized_keys_example_forces_serve_with_the_command_after_a_double_dash()
    {
        var line = File.ReadAllLines(RepoPaths.Of("examples", "backup-srv", "authorized_keys")).Single(l => l.StartsWith("restrict", StringComparison.Ordinal));

        Assert.Contains("command=\"sudo -n /usr/local/sbin/btrfs-backup-receive serve --client prod-srv -- \\\"$SSH_ORIGINAL_COMMAND\\\"\"", line, StringComparison.Ordinal);
        Assert.Contains("from=", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("prod.conf", "encrypted-stream")]
    [InlineData("prod-remote-btrfs.conf", "remote-btrfs")]
    public void The_producer_examples_parse_with_only_missing_key_files_reported(string file, string mode)
    {
        var result = ConfigLoader.LoadProducer(RepoPaths.Of("examples", "prod-srv", file), NoOverrides, NoOverrides);

        // The key files the examples name do not exist on a test machine: that, and only that, is an error.
        Assert.All(result.Errors, e => Assert.Contains(e.Key, new[] { "PASSPHRASE_FILE", "LUKS_KEY_FILE", "BACKUP_SSH_IDENTITY_FILE" }));
        Assert.NotEmpty(result.Errors);
        Assert.Empty(result.Warnings);
        Assert.Contains(mode, File.ReadAllText(RepoPaths.Of("examples", "prod-srv", file)), StringComparison.Ordinal);
    }

    [Fact]
    public void The_examples_cover_every_kind_of_file_the_issue_asks_for()
    {
        var files = Directory.EnumerateFiles(RepoPaths.Of("examples"), "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(RepoPaths.Of("examples"), f))
            .ToHashSet(StringComparer.Ordinal);

        foreach (var expected in new[]
        {
            "prod-srv/prod.conf", "prod-srv/prod-remote-btrfs.conf", "backup-srv/btrfs-backup-receive",
            "prod-srv/cron.d-btrfs-send-backup", "backup-srv/cron.d-btrfs-backup-prune",
            "prod-srv/btrfs-send-backup.service", "prod-srv/btrfs-send-backup.timer",
            "backup-srv/btrfs-backup-prune.service", "backup-srv/btrfs-backup-prune.timer",
            "backup-srv/sudoers.d-btrfs-ingest", "backup-srv/authorized_keys", "backup-srv/sshd_config.d-btrfs-ingest.conf",
            "backup-srv/icinga-command.conf", "prod-srv/btrfs-restore-drill.service", "prod-srv/btrfs-restore-drill.timer",
            "prod-srv/icinga-restore-drill.conf", "backup-srv/cron.d-btrfs-backup-close-stale", "prod-srv/icinga-audit.conf",
            "backup-srv/btrfs-backup-replicate.service", "backup-srv/btrfs-backup-replicate.timer",
        })
        {
            Assert.Contains(expected, files);
        }

        // Every timer starts a service of the same name that exists beside it.
        foreach (var timer in files.Where(f => f.EndsWith(".timer", StringComparison.Ordinal)))
        {
            Assert.Contains(Path.ChangeExtension(timer, ".service"), files);
        }
    }

    /// <summary>
    /// The offsite copy's units (checked by systemd-analyze verify with every other unit above) run
    /// the replicate verb and are what the README's "Offsite copy" section links to.
    /// </summary>
    [Fact]
    public void The_replicate_timer_and_service_run_replicate_and_the_readme_links_both()
    {
        var service = File.ReadAllText(RepoPaths.Of("examples", "backup-srv", "btrfs-backup-replicate.service"));
        var timer = File.ReadAllText(RepoPaths.Of("examples", "backup-srv", "btrfs-backup-replicate.timer"));
        var readme = File.ReadAllText(RepoPaths.Of("README.md"));
        var offsite = readme[readme.IndexOf("## Offsite copy", StringComparison.Ordinal)..];
        offsite = offsite[..offsite.IndexOf("\n## ", 1, StringComparison.Ordinal)];

        Assert.Contains("\nExecStart=/usr/local/sbin/btrfs-backup-receive replicate\n", service, StringComparison.Ordinal);
        Assert.Contains("\nType=oneshot\n", service, StringComparison.Ordinal);
        Assert.Contains("\nOnCalendar=", timer, StringComparison.Ordinal);
        Assert.Contains("\nWantedBy=timers.target", timer, StringComparison.Ordinal);
        Assert.Contains("(examples/backup-srv/btrfs-backup-replicate.service)", offsite, StringComparison.Ordinal);
        Assert.Contains("(examples/backup-srv/btrfs-backup-replicate.timer)", offsite, StringComparison.Ordinal);
    }

    [RealTheory("systemd-analyze", NeedsRoot = false)]
    [MemberData(nameof(ServiceUnits))]
    public async Task The_systemd_unit_passes_systemd_analyze_verify(string servicePath)
    {
        // verify checks that ExecStart's program exists: point /usr/local/sbin at the built programs.
        using var temp = new TempDir("units");
        var binDir = Path.GetDirectoryName(ProgramBinaries.Producer)! + "/";
        var units = new List<string>();
        foreach (var path in new[] { servicePath, Path.ChangeExtension(servicePath, ".timer") }.Where(p => File.Exists(RepoPaths.Of(p))))
        {
            var copy = temp.Sub(Path.GetFileName(path));
            File.WriteAllText(copy, File.ReadAllText(RepoPaths.Of(path)).Replace("/usr/local/sbin/", binDir, StringComparison.Ordinal));
            units.Add(copy);
        }

        // --man=no: Documentation= names man pages that only the packages install (the package
        // test verifies the installed units with their man pages present).
        var result = await Run.TryAsync(["systemd-analyze", "verify", "--man=no", .. units]);

        Assert.True(result.IsSuccess, result.StandardErrorTail);
        Assert.Equal("", result.StandardErrorTail.Trim());
    }

    [RealFact("/usr/sbin/sshd", "ssh-keygen")]
    public async Task The_sshd_snippet_is_valid_and_gives_the_ingest_user_keepalives_and_no_tty()
    {
        using var temp = new TempDir("sshd");
        Directory.CreateDirectory("/run/sshd");
        await Run.OutAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", temp.Sub("host"));
        File.WriteAllText(temp.Sub("sshd_config"), $"HostKey {temp.Sub("host")}\nInclude {RepoPaths.Of("examples", "backup-srv", "sshd_config.d-btrfs-ingest.conf")}\n");

        var effective = await Run.OutAsync("/usr/sbin/sshd", "-T", "-f", temp.Sub("sshd_config"), "-C", "user=btrfs-ingest,host=prod-srv,addr=192.0.2.10");

        // sshd -T prints one "key value" line per setting (some keys, e.g. listenaddress, repeat).
        var settings = effective.Split('\n').Select(l => l.Split(' ', 2)).Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First()[1].Trim(), StringComparer.Ordinal);
        Assert.InRange(int.Parse(settings["clientaliveinterval"], System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.InRange(int.Parse(settings["clientalivecountmax"], System.Globalization.CultureInfo.InvariantCulture), 1, 10);
        Assert.Equal("no", settings["permittty"]);
        Assert.Equal("no", settings["allowtcpforwarding"]);
        Assert.Equal("publickey", settings["authenticationmethods"]);
    }

    [Fact]
    public void Every_cron_line_runs_an_installed_program_as_root_at_a_valid_time()
    {
        var lines = Directory.EnumerateFiles(RepoPaths.Of("examples"), "cron.d-*", SearchOption.AllDirectories)
            .SelectMany(f => File.ReadAllLines(f).Select(l => (File: Path.GetFileName(f), Line: l)))
            // Active lines, and commented-out alternatives that a user would uncomment.
            .Select(x => (x.File, Line: x.Line.StartsWith('#') && CommentedCronLine().IsMatch(x.Line) ? x.Line[1..] : x.Line))
            .Where(x => x.Line.Length > 0 && !x.Line.StartsWith('#'))
            .ToList();

        Assert.True(lines.Count >= 4, $"only {lines.Count} cron lines found");
        foreach (var (file, line) in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(fields.Length >= 7, $"{file}: '{line}' needs 5 time fields, a user and a command");
            foreach (var (field, i) in fields.Take(5).Select((f, i) => (f, i)))
            {
                Assert.True(CronField().IsMatch(field), $"{file}: time field {i + 1} '{field}' is not a cron field");
            }

            Assert.Equal("root", fields[5]);
            var command = fields.Skip(6).SkipWhile(f => EnvironmentAssignment().IsMatch(f)).First();
            Assert.Contains(command, new[] { "/usr/local/sbin/btrfs-send-backup", "/usr/local/sbin/btrfs-backup-receive" });
        }
    }

    [Fact]
    public void Every_command_line_in_the_examples_man_pages_and_readme_uses_only_verbs_and_options_the_programs_have()
    {
        var verbs = help.Verbs;
        var options = help.Options;

        var invocations = new List<Invocation>();
        foreach (var file in Directory.EnumerateFiles(RepoPaths.Of("examples"), "*", SearchOption.AllDirectories))
        {
            var where = Path.GetRelativePath(RepoPaths.Root, file);
            invocations.AddRange(CommandLines.In(File.ReadAllText(file), where, verbs));
            if (file.EndsWith(".conf", StringComparison.Ordinal) && file.Contains("icinga", StringComparison.Ordinal))
            {
                invocations.AddRange(CommandLines.InIcinga(File.ReadAllText(file), where));
            }
        }

        foreach (var program in ProgramHelp.Programs)
        {
            var page = new ManPageText(File.ReadAllText(RepoPaths.Of("docs", $"{program}.8.md")));
            invocations.AddRange(CommandLines.In(page.Section("# EXAMPLES"), $"docs/{program}.8.md EXAMPLES", verbs));
        }

        invocations.AddRange(CommandLines.In(string.Join('\n', CodeBlockLines(File.ReadAllText(RepoPaths.Of("README.md")))), "README.md", verbs));

        // The restore drill (verify --restore-test --scratch) comes with issue 9's branch; until it is
        // merged, lines that use it are documented ahead of the code. Once verify knows
        // --restore-test, every such line is checked like any other.
        var drillMerged = options[("btrfs-send-backup", "verify")].Contains("--restore-test");
        var problems = invocations
            .Where(i => drillMerged || !i.Options.Contains("--restore-test"))
            .SelectMany(i => i.Options
                .Where(o => !options[(i.Program, i.Verb)].Contains(o))
                .Select(o => $"{i.Where}: {i.Program} {i.Verb} has no option {o}"))
            .ToList();

        Assert.True(invocations.Count >= 20, $"only {invocations.Count} command lines found: the scanner is broken");
        Assert.Contains(invocations, i => i.Verb == "check" && i.Options.Contains("--verify-data"));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static IEnumerable<string> CodeBlockLines(string markdown)
    {
        var inBlock = false;
        // Lines outside code blocks become empty, so reported line numbers are the file's.
        foreach (var line in markdown.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBlock = !inBlock;
                yield return "";
                continue;
            }

            yield return inBlock ? line : "";
        }
    }

    [GeneratedRegex(@"^#[0-9*]")]
    private static partial Regex CommentedCronLine();

    [GeneratedRegex(@"^(\*|[0-9]+)([-,][0-9]+)*(/[0-9]+)?$")]
    private static partial Regex CronField();

    [GeneratedRegex(@"^[A-Z_][A-Z0-9_]*=")]
    private static partial Regex EnvironmentAssignment();
}

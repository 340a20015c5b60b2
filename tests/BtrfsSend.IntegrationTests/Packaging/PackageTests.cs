using BtrfsSend.Core.Processes;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Packaging;

/// <summary>
/// scripts/package.sh end to end on this machine: build both .deb files, lintian, install with
/// dpkg -i, use what was installed (program, man pages, units, completion, runtime directory;
/// the native receiver serving real backups and replicating them: <see cref="InstalledReceiver"/>),
/// upgrade to a rebuilt version with the sysadmin's edited configuration left alone, remove,
/// purge, and nothing of the packages left behind.
/// </summary>
[Collection(PackageCollection.Name)]
public sealed class PackageTests(CephS3Fixture ceph) : IClassFixture<CephS3Fixture>
{
    private const string Producer = "btrfs-send-backup";
    private const string Receiver = "btrfs-backup-receive";
    private const string ProducerConf = "/etc/btrfs-send-backup/prod.conf";
    private const string ReceiverConf = "/etc/default/btrfs-backup-receive";
    private static readonly string[] Packages = [Producer, Receiver];

    private static readonly string[] ProducerUnits = ["btrfs-send-backup.service", "btrfs-send-backup.timer", "btrfs-restore-drill.service", "btrfs-restore-drill.timer"];

    private static readonly string[] ReceiverUnits =
    [
        "btrfs-backup-prune.service", "btrfs-backup-prune.timer", "btrfs-backup-check.service", "btrfs-backup-check.timer",
        "btrfs-backup-close-stale.service", "btrfs-backup-close-stale.timer",
    ];

    [RealFact("dpkg", "dpkg-deb", "dpkg-query", "lintian", "man", "systemd-analyze", "bash", "go-md2man", "clang", "readelf",
        "mkfs.btrfs", "btrfs", "/usr/sbin/sshd", "ssh", "sudo", "gpg", "radosgw")]
    public async Task Both_packages_build_install_work_upgrade_keeping_the_edited_config_and_purge_without_a_trace()
    {
        using var temp = new TempDir("deb");
        foreach (var path in new[] { ProducerConf, ReceiverConf, "/usr/sbin/" + Producer, "/usr/sbin/" + Receiver })
        {
            Assert.False(File.Exists(path), $"{path} exists before the test: this machine is not clean (dpkg -P {string.Join(' ', Packages)})");
        }

        var first = await PackageAsync(temp.Sub("v1"), "0.0.1-1", build: true);
        var second = await PackageAsync(temp.Sub("v2"), "0.0.1-2", build: false);
        try
        {
            // lintian: clean, with every override explained.
            var lintian = await Run.TryAsync(["lintian", "--fail-on", "error,warning", "--tag-display-limit", "0", .. first]);
            Assert.True(lintian.IsSuccess && lintian.StandardOutput.Trim().Length == 0, lintian.StandardOutput + lintian.StandardErrorTail);

            await DpkgAsync(["-i", .. first]);
            await TheInstalledPackagesWorkAsync("0.0.1-1");
            await InstalledReceiver.DoesRealWorkAsync(ceph);

            // The sysadmin edits both configuration files; the upgrade must not touch them.
            File.AppendAllText(ProducerConf, "\n# edited by the sysadmin\nFULL_INTERVAL_DAYS=14\n");
            File.AppendAllText(ReceiverConf, "\n# edited by the sysadmin\nKEEP_DAILY=9\n");
            var editedProducer = File.ReadAllText(ProducerConf);
            var editedReceiver = File.ReadAllText(ReceiverConf);

            await DpkgAsync(["-i", .. second]);

            Assert.Equal("0.0.1-2", await VersionAsync(Producer));
            Assert.Equal("0.0.1-2", await VersionAsync(Receiver));
            Assert.Equal(editedProducer, File.ReadAllText(ProducerConf));
            Assert.Equal(editedReceiver, File.ReadAllText(ReceiverConf));
            Assert.DoesNotContain(Directory.EnumerateFiles("/etc/btrfs-send-backup"), f => f != ProducerConf);
            // No .dpkg-dist / .dpkg-old beside it (a filter, not the pattern "name.*": .NET's pattern also matches "name").
            Assert.DoesNotContain(Directory.EnumerateFiles("/etc/default"), f => Path.GetFileName(f).StartsWith(Receiver + ".", StringComparison.Ordinal));
            await TheInstalledPackagesWorkAsync("0.0.1-2");

            // remove: the programs go, the sysadmin's configuration stays.
            await DpkgAsync("-r", Producer, Receiver);
            Assert.False(File.Exists("/usr/sbin/" + Producer));
            Assert.False(File.Exists("/usr/lib/systemd/system/btrfs-backup-prune.service"));
            Assert.Equal(editedReceiver, File.ReadAllText(ReceiverConf));

            // purge: nothing left.
            await DpkgAsync("-P", Producer, Receiver);
            foreach (var gone in new[]
            {
                ProducerConf, "/etc/btrfs-send-backup", ReceiverConf, "/run/btrfs-backup-receive", "/usr/share/doc/" + Producer,
                "/usr/share/doc/" + Receiver, "/usr/lib/tmpfiles.d/btrfs-backup-receive.conf", "/usr/share/bash-completion/completions/" + Producer,
                "/usr/share/man/man5/btrfs-backup-receive.conf.5.gz",
            })
            {
                Assert.False(File.Exists(gone) || Directory.Exists(gone), $"{gone} is left after purge");
            }

            foreach (var package in Packages)
            {
                var status = await Run.TryAsync("dpkg-query", "-W", "-f", "${db:Status-Status}", package);
                Assert.True(!status.IsSuccess || status.StandardOutput.Trim() is "" or "not-installed", $"{package}: {status.StandardOutput}");
            }
        }
        finally
        {
            await new ToolRunner().TryRunAsync(["dpkg", "-P", Producer, Receiver]);
        }
    }

    [Fact]
    public void Every_lintian_override_says_why_on_the_comment_line_above_it()
    {
        foreach (var package in Packages)
        {
            var lines = File.ReadAllLines(RepoPaths.Of("packaging", package, "lintian-overrides"));
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].Length > 0 && !lines[i].StartsWith('#'))
                {
                    Assert.True(i > 0 && lines[i - 1].StartsWith("# ", StringComparison.Ordinal), $"packaging/{package}/lintian-overrides line {i + 1} '{lines[i]}' has no comment saying why");
                }
            }
        }
    }

    private static async Task TheInstalledPackagesWorkAsync(string version)
    {
        Assert.Equal(version, await VersionAsync(Producer));
        foreach (var package in Packages)
        {
            // The program, from /usr/sbin.
            var programVersion = await Run.OutAsync("/usr/sbin/" + package, "--version");
            Assert.StartsWith("0.", programVersion.Trim(), StringComparison.Ordinal);

            // Both man pages, where man finds them.
            Assert.Equal($"/usr/share/man/man8/{package}.8.gz", (await Run.OutAsync("man", "-w", "8", package)).Trim());
            Assert.Equal($"/usr/share/man/man5/{package}.conf.5.gz", (await Run.OutAsync("man", "-w", "5", package + ".conf")).Trim());

            // The configuration is a conffile of its package.
            var conffiles = await Run.OutAsync("dpkg-query", "-W", "-f", "${Conffiles}", package);
            Assert.Contains(package == Producer ? ProducerConf : ReceiverConf, conffiles, StringComparison.Ordinal);

            // bash-completion's loader finds the completion and it completes verbs (the loader
            // returns 124, "loaded, retry", on success: hence ';', not '&&').
            var completed = await Run.OutAsync("bash", "--norc", "--noprofile", "-c",
                "source /usr/share/bash-completion/bash_completion; _completion_loader \"$1\"; COMP_WORDS=(\"$1\" check-con) && COMP_CWORD=1 && "
                + "\"$(complete -p \"$1\" | sed 's/.*-F \\([^ ]*\\) .*/\\1/')\" \"$1\" check-con \"$1\" && printf '%s\\n' \"${COMPREPLY[@]}\"", "bash", package);
            Assert.Equal("check-config", completed.Trim());
        }

        // The units verify as installed (ExecStart= names /usr/sbin programs that exist) ...
        string[] units = [.. ProducerUnits.Concat(ReceiverUnits).Select(u => "/usr/lib/systemd/system/" + u)];
        var verify = await Run.TryAsync(["systemd-analyze", "verify", .. units]);
        Assert.True(verify.IsSuccess, verify.StandardErrorTail);
        Assert.Equal("", verify.StandardErrorTail.Trim());
        foreach (var unit in units)
        {
            var text = File.ReadAllText(unit);
            Assert.DoesNotContain("/usr/local/sbin", text, StringComparison.Ordinal);
            Assert.True(!unit.EndsWith(".service", StringComparison.Ordinal) || text.Contains("SyslogIdentifier=", StringComparison.Ordinal), $"{unit} sets no SyslogIdentifier");
        }

        // ... and are installed disabled: no timer is wanted by anything.
        Assert.Empty(Directory.Exists("/etc/systemd/system/timers.target.wants")
            ? Directory.EnumerateFileSystemEntries("/etc/systemd/system/timers.target.wants", "btrfs-*")
            : []);

        // The receiver's runtime directory, from tmpfiles.d, root only.
        Assert.True(Directory.Exists("/run/btrfs-backup-receive"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode("/run/btrfs-backup-receive"));

        // The packaged configuration is one the programs accept (the producer's names key files
        // that do not exist here: check-config must say exactly that, exit 3).
        var receiverCheck = await Run.TryAsync("/usr/sbin/" + Receiver, "check-config");
        Assert.True(receiverCheck.IsSuccess, receiverCheck.StandardErrorTail);
        var producerCheck = await Run.TryAsync("/usr/sbin/" + Producer, "check-config");
        Assert.Equal(3, producerCheck.ExitCode);
        Assert.Contains("PASSPHRASE_FILE", producerCheck.StandardErrorTail, StringComparison.Ordinal);
    }

    private static async Task<string> VersionAsync(string package)
        => (await Run.OutAsync("dpkg-query", "-W", "-f", "${Version}", package)).Trim();

    private static async Task<string[]> PackageAsync(string outDir, string version, bool build)
    {
        string[] argv = ["bash", RepoPaths.Of("scripts", "package.sh"), "--version", version, "--out", outDir, .. build ? Array.Empty<string>() : ["--no-build"]];
        var result = await Run.TryAsync(argv);
        Assert.True(result.IsSuccess, $"package.sh exited {result.ExitCode}: {result.StandardErrorTail}");
        var debs = Directory.GetFiles(outDir, "*.deb").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([$"{outDir}/{Receiver}_{version}_amd64.deb", $"{outDir}/{Producer}_{version}_amd64.deb"], debs);
        return debs;
    }

    /// <summary>dpkg, waiting for the dpkg lock while another process (apt of a parallel job) holds it.</summary>
    private static async Task DpkgAsync(params string[] args)
    {
        var runner = new ToolRunner(new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" });
        for (var attempt = 0; ; attempt++)
        {
            var result = await runner.TryRunAsync(["dpkg", .. args]);
            if (result.IsSuccess)
            {
                return;
            }

            if (attempt < 60 && result.StandardErrorTail.Contains("lock", StringComparison.OrdinalIgnoreCase))
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                continue;
            }

            Assert.Fail($"dpkg {string.Join(' ', args)} exited {result.ExitCode}: {result.StandardErrorTail}");
        }
    }
}

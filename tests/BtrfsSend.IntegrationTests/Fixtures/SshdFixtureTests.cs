using System.Security.Cryptography;
using System.Text;
using BtrfsSend.TestSupport;
using CliWrap;

namespace BtrfsSend.IntegrationTests.Fixtures;

public sealed class SshdFixtureTests
{
    /// <summary>
    /// A stand-in forced command for the transport itself (the receiver's own tests use the real
    /// receiver): echoes its argument, hashes stdin, or refuses — and insists on exactly
    /// <c>serve -- COMMAND</c> as its argv.
    /// </summary>
    private const string Probe = """
        #!/bin/sh
        [ "$#" -eq 3 ] && [ "$1" = serve ] && [ "$2" = -- ] || { echo "probe: bad argv ($#)" >&2; exit 2; }
        cmd=$3
        case "$cmd" in
          "echo "*) printf '%s' "${cmd#echo }" ;;
          sink) sha256sum | cut -d' ' -f1 ;;
          uid) id -u ;;
          *) echo "probe: refused" >&2; exit 7 ;;
        esac
        """;

    [RealFact("/usr/sbin/sshd", "ssh", "sudo", "sha256sum")]
    public async Task The_forced_command_receives_SSH_ORIGINAL_COMMAND_byte_for_byte_through_sudo_as_root()
    {
        using var dir = new TempDir("probe");
        var canary = dir.Sub("canary");
        Directory.CreateDirectory(canary);
        await using var sshd = await SshdFixture.StartAsync(WriteProbe(dir));

        var hostile = $"echo a  b \"c\" 'd' ; touch {canary}/semi $(touch {canary}/subst) `touch {canary}/bq` \\ * ~ & | > <\nline2\tend --help";
        var echoed = await RunSshAsync(sshd, hostile);
        var uid = await RunSshAsync(sshd, "uid");

        Assert.Equal(hostile["echo ".Length..], echoed);
        Assert.Empty(Directory.GetFileSystemEntries(canary));
        Assert.Equal("0\n", uid);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo", "sha256sum")]
    public async Task Sixty_four_MiB_of_binary_stdin_arrive_intact_through_ssh_and_sudo()
    {
        using var dir = new TempDir("probe");
        await using var sshd = await SshdFixture.StartAsync(WriteProbe(dir));
        var data = new byte[64 * 1024 * 1024];
        new Random(42).NextBytes(data);
        var stdout = new StringBuilder();

        await Cli.Wrap(sshd.SshArgv("sink")[0])
            .WithArguments(sshd.SshArgv("sink").Skip(1))
            .WithStandardInputPipe(PipeSource.FromBytes(data))
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
            .ExecuteAsync();

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), stdout.ToString().Trim());
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task A_refusal_comes_back_as_the_forced_commands_exit_code_and_stderr()
    {
        using var dir = new TempDir("probe");
        await using var sshd = await SshdFixture.StartAsync(WriteProbe(dir));
        var argv = sshd.SshArgv("rm -rf /");

        var result = await Run.TryAsync(argv);

        Assert.Equal(7, result.ExitCode);
        Assert.Contains("probe: refused", result.StandardErrorTail, StringComparison.Ordinal);
    }

    [RealFact("/usr/sbin/sshd", "ssh", "sudo")]
    public async Task Dispose_removes_the_ingest_user_and_the_sudoers_entry()
    {
        using var dir = new TempDir("probe");
        var sshd = await SshdFixture.StartAsync(WriteProbe(dir));
        Assert.True(File.Exists(sshd.SudoersFilePath));
        Assert.True((await Run.TryAsync("id", sshd.UserName)).IsSuccess);

        await sshd.DisposeAsync();

        Assert.False(File.Exists(sshd.SudoersFilePath));
        Assert.False((await Run.TryAsync("id", sshd.UserName)).IsSuccess);
    }

    private static string WriteProbe(TempDir dir)
    {
        var path = dir.Sub("probe.sh");
        File.WriteAllText(path, Probe.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    private static async Task<string> RunSshAsync(SshdFixture sshd, string command)
        => await Run.OutAsync(sshd.SshArgv(command));
}

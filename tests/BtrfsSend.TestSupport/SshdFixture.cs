using System.Net;
using System.Net.Sockets;
using CliWrap;

namespace BtrfsSend.TestSupport;

/// <summary>
/// A private sshd on 127.0.0.1 and a free port with its own host key, an ingest user with
/// /bin/sh, and an authorized_keys forced command exactly as in production:
/// <c>restrict,command="sudo -n PROGRAM serve [ARGS] -- \"$SSH_ORIGINAL_COMMAND\""</c>, plus a
/// sudoers.d entry allowing only <c>PROGRAM serve *</c>. <see cref="SshArgv"/> is the client's argv.
/// Dispose stops sshd and its session children by PID, removes the sudoers entry and the user.
/// A fixture whose test process was killed is cleaned by the next fixture (its owner PID is dead).
/// </summary>
public sealed class SshdFixture : IAsyncDisposable
{
    public const string SudoersPrefix = "btrfs-send-test-";
    private const string SudoersDir = "/etc/sudoers.d";
    private const string OwnerMarker = "# btrfs-send test fixture owner-pid=";
    private static readonly SemaphoreSlim UserDbLock = new(1, 1);

    private readonly TempDir _dir;
    private readonly CancellationTokenSource _stop = new();
    private CommandTask<CommandResult>? _sshd;
    private bool _userCreated;

    private SshdFixture(TempDir dir, string userName, string programPath, IReadOnlyList<string> serveArgs, IReadOnlyList<string> launcher)
    {
        _dir = dir;
        UserName = userName;
        ProgramPath = programPath;
        ServeArgs = serveArgs;
        Launcher = launcher;
        SudoersFilePath = Path.Combine(SudoersDir, SudoersPrefix + userName);
    }

    public string UserName { get; }

    public string ProgramPath { get; }

    public IReadOnlyList<string> ServeArgs { get; }

    /// <summary>
    /// An argv prefix that sshd is started under and every client must be started under too,
    /// e.g. <c>nsenter --net=/run/netns/NAME --</c> for a private network namespace; empty = none.
    /// </summary>
    public IReadOnlyList<string> Launcher { get; }

    public int Port { get; private set; }

    public string SudoersFilePath { get; }

    public string ClientKeyFilePath => _dir.Sub("ssh", "client_ed25519");

    public string KnownHostsFilePath => _dir.Sub("ssh", "known_hosts");

    public string HostKeyAlias => "bst-sshd";

    public string LogFilePath => _dir.Sub("ssh", "sshd.log");

    public string DirPath => _dir.DirPath;

    /// <summary>user@127.0.0.1</summary>
    public string Target => $"{UserName}@127.0.0.1";

    /// <summary>The ssh options (without target and command) a producer would pass.</summary>
    public IReadOnlyList<string> SshOptions =>
    [
        "-F", "/dev/null", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "-i", ClientKeyFilePath, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", $"HostKeyAlias={HostKeyAlias}", "-o", "StrictHostKeyChecking=yes",
        "-o", $"UserKnownHostsFile={KnownHostsFilePath}", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR",
    ];

    /// <summary>The complete client argv for one remote command: <c>ssh OPTIONS user@127.0.0.1 -- COMMAND</c>.</summary>
    public string[] SshArgv(string remoteCommand) => ["ssh", .. SshOptions, Target, "--", remoteCommand];

    /// <summary>
    /// Starts sshd with a forced command running <paramref name="programPath"/> through sudo.
    /// <paramref name="serveArgs"/> go between <c>serve</c> and <c>--</c> (e.g. --config, --client).
    /// <paramref name="launcher"/> is an argv prefix sshd runs under (see <see cref="Launcher"/>).
    /// </summary>
    public static async Task<SshdFixture> StartAsync(string programPath, IReadOnlyList<string>? serveArgs = null,
        IReadOnlyList<string>? launcher = null, CancellationToken cancellationToken = default)
    {
        Prerequisites.Require(needsRoot: true, "/usr/sbin/sshd", "ssh", "ssh-keygen", "sudo", "visudo", "useradd", "userdel");
        await CleanStaleAsync();
        var userName = "bst" + Guid.NewGuid().ToString("N")[..9];
        var fixture = new SshdFixture(new TempDir("sshd"), userName, Path.GetFullPath(programPath), serveArgs ?? [], launcher ?? []);
        try
        {
            await fixture.SetUpAsync();
            await fixture.StartSshdAsync(cancellationToken);
            return fixture;
        }
        catch
        {
            await fixture.DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync()
    {
        var ssh = _dir.Sub("ssh");
        var home = _dir.Sub("home");
        Directory.CreateDirectory(ssh);
        File.SetUnixFileMode(ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101); // root-owned 0755: StrictModes accepts it
        Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation dir, else it refuses to start

        await Run.OutAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bst-host", "-f", Path.Combine(ssh, "host_ed25519"));
        await Run.OutAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bst-client", "-f", ClientKeyFilePath);
        var hostPub = (await File.ReadAllTextAsync(Path.Combine(ssh, "host_ed25519.pub"))).Split(' ');
        await File.WriteAllTextAsync(KnownHostsFilePath, $"{HostKeyAlias} {hostPub[0]} {hostPub[1]}\n");

        await UserDbLock.WaitAsync();
        try
        {
            // '*' rather than '!': with UsePAM no, sshd treats '!' as a locked account (docs/architecture.md).
            for (var attempt = 0; ; attempt++)
            {
                var add = await Run.TryAsync("useradd", "--system", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--password", "*", UserName);
                if (add.IsSuccess)
                {
                    break;
                }

                if (attempt >= 20)
                {
                    throw new InvalidOperationException($"useradd {UserName} failed: {add.StandardErrorTail}");
                }

                await Task.Delay(100); // another process holds the passwd lock
            }

            _userCreated = true;
        }
        finally
        {
            UserDbLock.Release();
        }

        var serve = string.Join(' ', ServeArgs.Select(Quote));
        var forced = $"sudo -n {ProgramPath} serve {(serve.Length > 0 ? serve + " " : "")}-- \\\"$SSH_ORIGINAL_COMMAND\\\"";
        var clientPub = (await File.ReadAllTextAsync(ClientKeyFilePath + ".pub")).Trim();
        var authorizedKeys = Path.Combine(home, "authorized_keys");
        await File.WriteAllTextAsync(authorizedKeys, $"restrict,command=\"{forced}\" {clientPub}\n");
        File.SetUnixFileMode(authorizedKeys, (UnixFileMode)0b110_100_100);

        var sudoers = Path.Combine(ssh, "sudoers");
        await File.WriteAllTextAsync(sudoers,
            $"{OwnerMarker}{Environment.ProcessId}\n{UserName} ALL=(root) NOPASSWD: {ProgramPath} serve *\n");
        await Run.OutAsync("visudo", "-cqf", sudoers);
        await Run.OutAsync("install", "-m", "0440", sudoers, SudoersFilePath);

        await File.WriteAllTextAsync(_dir.Sub("ssh", "sshd_config"), string.Join('\n',
            "ListenAddress 127.0.0.1",
            $"HostKey {Path.Combine(ssh, "host_ed25519")}",
            $"PidFile {Path.Combine(ssh, "sshd.pid")}",
            "UsePAM no",
            "StrictModes yes",
            $"AuthorizedKeysFile {authorizedKeys}",
            $"AllowUsers {UserName}",
            "PermitRootLogin no",
            "AuthenticationMethods publickey",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "ClientAliveInterval 5",
            "ClientAliveCountMax 3",
            "MaxStartups 100:30:200",
            "LogLevel VERBOSE",
            ""));
        await Run.OutAsync("/usr/sbin/sshd", "-t", "-f", _dir.Sub("ssh", "sshd_config"));
    }

    private async Task StartSshdAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            Port = FreePort();
            await File.WriteAllTextAsync(LogFilePath, "", cancellationToken);
            var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string[] argv = [.. Launcher, "/usr/sbin/sshd", "-D", "-E", LogFilePath, "-f", _dir.Sub("ssh", "sshd_config"), "-p", port];
            _sshd = Cli.Wrap(argv[0])
                .WithArguments(argv.Skip(1))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(_stop.Token);
            for (var i = 0; i < 200; i++)
            {
                var log = await File.ReadAllTextAsync(LogFilePath, cancellationToken);
                if (log.Contains($"Server listening on 127.0.0.1 port {port}", StringComparison.Ordinal))
                {
                    return;
                }

                if (_sshd.Task.IsCompleted)
                {
                    break;
                }

                await Task.Delay(25, cancellationToken);
            }

            await StopSshdAsync();
        }

        throw new InvalidOperationException($"sshd did not start: {await File.ReadAllTextAsync(LogFilePath, cancellationToken)}");
    }

    private async Task StopSshdAsync()
    {
        if (_sshd is null)
        {
            return;
        }

        var pid = _sshd.ProcessId;
        foreach (var child in ChildPids(pid))
        {
            Kill(child);
        }

        await _stop.CancelAsync();
        try
        {
            await _sshd;
        }
        catch (OperationCanceledException)
        {
        }

        _sshd = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopSshdAsync();
        File.Delete(SudoersFilePath);
        if (_userCreated)
        {
            await RemoveUserAsync(UserName);
        }

        _stop.Dispose();
        _dir.Dispose();
    }

    private static async Task RemoveUserAsync(string userName)
    {
        for (var i = 0; i < 50 && (await Run.TryAsync("pgrep", "-u", userName)).IsSuccess; i++)
        {
            await Task.Delay(100);
        }

        await UserDbLock.WaitAsync();
        try
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var del = await Run.TryAsync("userdel", userName);
                if (del.IsSuccess || del.ExitCode == 6)
                {
                    return; // 6 = no such user
                }

                await Task.Delay(100);
            }
        }
        finally
        {
            UserDbLock.Release();
        }
    }

    /// <summary>Removes sudoers entries and users left by fixtures whose owning test process is gone.</summary>
    private static async Task CleanStaleAsync()
    {
        if (!Directory.Exists(SudoersDir))
        {
            return;
        }

        foreach (var file in Directory.GetFiles(SudoersDir, SudoersPrefix + "*"))
        {
            var firstLine = File.ReadLines(file).FirstOrDefault() ?? "";
            if (!firstLine.StartsWith(OwnerMarker, StringComparison.Ordinal)
                || !int.TryParse(firstLine[OwnerMarker.Length..], out var ownerPid)
                || Directory.Exists($"/proc/{ownerPid}"))
            {
                continue;
            }

            var user = Path.GetFileName(file)[SudoersPrefix.Length..];
            File.Delete(file);
            await RemoveUserAsync(user);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static IEnumerable<int> ChildPids(int parent)
    {
        var result = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                {
                    result.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process exited while we looked.
            }
        }

        return result;
    }

    private static void Kill(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static string Quote(string word) => word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:@".Contains(c, StringComparison.Ordinal))
        ? word
        : throw new ArgumentException($"serve argument '{word}' needs quoting; keep fixture paths simple");
}

using System.Globalization;
using System.Security.Cryptography;
using BtrfsSend.Core.Protocol;
using BtrfsSend.TestSupport;

namespace BtrfsSend.IntegrationTests.Receiver;

/// <summary>
/// The real receiver behind a private sshd, as in production: a receiver config file (root-owned,
/// in its own temp dir), the forced command <c>sudo -n btrfs-backup-receive serve --config FILE
/// [--client NAME] -- "$SSH_ORIGINAL_COMMAND"</c>, an empty BACKUP_ROOT (or one on a loop btrfs)
/// and an empty canary dir that hostile commands would <c>touch</c> into. The test talks to the
/// receiver only through <c>ssh</c>.
/// </summary>
internal sealed class SshReceiver : IAsyncDisposable
{
    public const string Set = "prod-srv/rootfs";

    private readonly TempDir _dir;
    private readonly SshdFixture _sshd;

    private SshReceiver(TempDir dir, SshdFixture sshd, string configFilePath, string backupRootDirPath)
    {
        _dir = dir;
        _sshd = sshd;
        ConfigFilePath = configFilePath;
        BackupRootDirPath = backupRootDirPath;
    }

    public string ConfigFilePath { get; }

    public string BackupRootDirPath { get; }

    public string CanaryDirPath => _dir.Sub("canary");

    public string LogFilePath => _dir.Sub("receiver.log");

    public SshdFixture Sshd => _sshd;

    /// <summary>
    /// Writes the config (BACKUP_ROOT, MIN_FREE_SPACE=0 unless <paramref name="configLines"/> set it,
    /// LOG_FILE, then <paramref name="configLines"/>) and starts sshd with the forced command.
    /// </summary>
    public static async Task<SshReceiver> StartAsync(IReadOnlyList<string>? configLines = null, string? client = null, string? backupRootDirPath = null)
    {
        var dir = new TempDir("recv-ssh");
        try
        {
            var root = backupRootDirPath ?? dir.Sub("backups");
            Directory.CreateDirectory(root);
            Directory.CreateDirectory(dir.Sub("canary"));
            File.SetUnixFileMode(dir.Sub("canary"), (UnixFileMode)0b111_111_111); // even the ingest user could write here
            var config = dir.Sub("receive.conf");
            var lines = new List<string> { $"BACKUP_ROOT={root}", $"LOG_FILE={dir.Sub("receiver.log")}" };
            if (configLines?.Any(l => l.StartsWith("MIN_FREE_SPACE=", StringComparison.Ordinal)) != true)
            {
                lines.Add("MIN_FREE_SPACE=0");
            }

            lines.AddRange(configLines ?? []);
            await File.WriteAllTextAsync(config, string.Join('\n', lines) + "\n");
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            string[] serveArgs = client is null ? ["--config", config] : ["--config", config, "--client", client];
            var sshd = await SshdFixture.StartAsync(ProgramBinaries.Receiver, serveArgs);
            return new SshReceiver(dir, sshd, config, root);
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>A snapshot name <c>rootfs-&lt;UTC now + offset&gt;</c>.</summary>
    public static string Snapshot(TimeSpan offsetFromNow, string prefix = "rootfs")
        => $"{prefix}-{(DateTime.UtcNow + offsetFromNow).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}";

    public static string FullCommand(string set, string snapshot) => $"receive-stream {set} {snapshot} full";

    public static string IncrementalCommand(string set, string snapshot, string parent) => $"receive-stream {set} {snapshot} incremental {parent}";

    /// <summary>
    /// <paramref name="length"/> random bytes that pass the receiver's first-byte check (an
    /// old-format OpenPGP symmetric-key session-key packet tag, 0x8C, first).
    /// </summary>
    public static byte[] Encrypted(int length)
    {
        var payload = RandomNumberGenerator.GetBytes(length);
        payload[0] = 0x8C;
        return payload;
    }

    /// <summary>The MiB <see cref="Generated"/> repeats: random, but beginning like an OpenPGP message.</summary>
    private static byte[] GeneratedChunk()
    {
        var chunk = new byte[1024 * 1024];
        new Random(7).NextBytes(chunk);
        chunk[0] = 0x8C;
        return chunk;
    }

    /// <summary>Writes <paramref name="payload"/> BSF1-framed, trailer included.</summary>
    public static Func<Stream, CancellationToken, Task> Framed(byte[] payload) => async (stdin, cancellationToken) =>
    {
        await using var writer = new Bsf1Writer(stdin, leaveOpen: true);
        await writer.WriteAsync(payload, cancellationToken);
        await writer.CompleteAsync(cancellationToken);
    };

    /// <summary>
    /// Writes <paramref name="totalBytes"/> of payload (a repeated random MiB) BSF1-framed;
    /// once <paramref name="signalAfterBytes"/> are written it completes <paramref name="reached"/>
    /// and waits for <paramref name="resume"/> before writing on. Completes the trailer only if
    /// <paramref name="complete"/>.
    /// </summary>
    public static Func<Stream, CancellationToken, Task> Generated(long totalBytes, bool complete = true, long signalAfterBytes = long.MaxValue,
        TaskCompletionSource? reached = null, Task? resume = null) => async (stdin, cancellationToken) =>
    {
        var chunk = GeneratedChunk();
        await using var writer = new Bsf1Writer(stdin, leaveOpen: true);
        long written = 0;
        try
        {
            while (written < totalBytes)
            {
                var n = (int)Math.Min(chunk.Length, totalBytes - written);
                await writer.WriteAsync(chunk.AsMemory(0, n), cancellationToken);
                written += n;
                if (written >= signalAfterBytes && reached is not null && !reached.Task.IsCompleted)
                {
                    await writer.FlushAsync(cancellationToken);
                    reached.TrySetResult();
                    if (resume is not null)
                    {
                        await resume;
                    }
                }
            }

            if (complete)
            {
                await writer.CompleteAsync(cancellationToken);
            }
        }
        finally
        {
            reached?.TrySetResult(); // never leave a test waiting when the pipe broke early
        }
    };

    /// <summary>The SHA-256 and length of what <see cref="Generated"/> writes for <paramref name="totalBytes"/>.</summary>
    public static (string Sha256, long Bytes) GeneratedDigest(long totalBytes)
    {
        var chunk = GeneratedChunk();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long done = 0; done < totalBytes; done += chunk.Length)
        {
            hash.AppendData(chunk, 0, (int)Math.Min(chunk.Length, totalBytes - done));
        }

        return (Convert.ToHexStringLower(hash.GetHashAndReset()), totalBytes);
    }

    public Task<SshOutcome> RunAsync(string command, Func<Stream, CancellationToken, Task>? writeStdin = null)
        => SshCall.RunAsync(_sshd, command, writeStdin);

    public SshCall Start(string command, Func<Stream, CancellationToken, Task>? writeStdin = null)
        => SshCall.Start(_sshd, command, writeStdin);

    public Task<SshOutcome> SendFullAsync(string set, string snapshot, byte[] payload)
        => RunAsync(FullCommand(set, snapshot), Framed(payload));

    public string SetDirPath(string set) => Path.Combine(BackupRootDirPath, set);

    /// <summary>File names in the set's directory (without the lock file), sorted; empty when it does not exist.</summary>
    public IReadOnlyList<string> FilesIn(string set)
        => Directory.Exists(SetDirPath(set))
            ? Directory.GetFiles(SetDirPath(set)).Select(p => Path.GetFileName(p)).Where(n => n != ".lock").Order(StringComparer.Ordinal).ToList()
            : [];

    public IReadOnlyList<string> TempFilesIn(string set) => FilesIn(set).Where(n => n.StartsWith(".tmp-", StringComparison.Ordinal)).ToList();

    /// <summary>Every file and directory under BACKUP_ROOT, relative, sorted.</summary>
    public IReadOnlyList<string> EverythingUnderRoot()
        => Directory.GetFileSystemEntries(BackupRootDirPath, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(BackupRootDirPath, p)).Order(StringComparer.Ordinal).ToList();

    /// <summary>PIDs of receiver processes serving this config (argv[0] is the receiver itself, not sudo or the shell).</summary>
    public IReadOnlyList<int> ReceiverPids()
        => ProcessTable.Find(argv => argv[0] == _sshd.ProgramPath && argv.Count > 1 && argv[1] == "serve" && argv.Contains(ConfigFilePath));

    /// <summary>Waits until no receiver for this config runs any more (they exit once their stdin ends).</summary>
    public async Task WaitForReceiversToExitAsync()
    {
        for (var i = 0; i < 600; i++)
        {
            if (ReceiverPids().Count == 0)
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"receiver processes for {ConfigFilePath} still running after 30 s: {string.Join(", ", ReceiverPids())}");
    }

    /// <summary>Polls until <paramref name="condition"/> holds (at most 30 s, then throws with <paramref name="what"/>).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (var i = 0; i < 600; i++)
        {
            if (condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"still waiting after 30 s for: {what}");
    }

    /// <summary><c>stat -c '%a %U:%G'</c> of a stored file.</summary>
    public static async Task<string> ModeAndOwnerAsync(string path) => (await Run.OutAsync("stat", "-c", "%a %U:%G", path)).Trim();

    public static string Sha256Of(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _sshd.DisposeAsync();
        }
        finally
        {
            _dir.Dispose();
        }
    }
}

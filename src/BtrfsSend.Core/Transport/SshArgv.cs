using System.Globalization;

namespace BtrfsSend.Core.Transport;

/// <summary>
/// Builds the ssh client argv (docs/architecture.md): no user config (<c>-F /dev/null</c> unless a config
/// file is given), BatchMode, keepalives, the identity and port from prod.conf, then the target,
/// <c>--</c>, and the remote command as ONE word (sshd hands it to the forced command verbatim).
/// Never <c>-t</c>: <c>restrict</c> forbids a pty.
/// </summary>
public sealed record SshArgv
{
    /// <summary>user@host, as BACKUP_SSH_TARGET.</summary>
    public required string Target { get; init; }

    /// <summary>BACKUP_SSH_PORT; null = ssh's default (22 or the ssh config's).</summary>
    public int? Port { get; init; }

    /// <summary>BACKUP_SSH_IDENTITY_FILE; null = ssh's default identities.</summary>
    public string? IdentityFilePath { get; init; }

    /// <summary>Extra <c>-o KEY=VALUE</c> options (tests: known-hosts file and host key alias).</summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];

    /// <summary>A cipher such as aes128-gcm@openssh.com (faster than chacha20 on AES-NI machines).</summary>
    public string? Cipher { get; init; }

    /// <summary>
    /// OpenSSH's default cipher set with the AES-GCM ciphers first: on a CPU with AES instructions
    /// they cost about half of chacha20-poly1305's CPU on both ends of the connection
    /// (docs/benchmarks.md). Every name has been in OpenSSH since 6.5.
    /// </summary>
    public const string AesGcmFirst = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";

    /// <summary>
    /// With no <see cref="Cipher"/>: the <c>Ciphers</c> preference offered to the server, passed after
    /// <see cref="ExtraOptions"/> so that a <c>Ciphers=</c> there wins (ssh keeps the first value it
    /// is given). Null = ssh's own default.
    /// </summary>
    public string? DefaultCiphers { get; init; }

    /// <summary><see cref="AesGcmFirst"/> when this CPU has AES instructions, else null (ssh's default, chacha20 first).</summary>
    public static string? DefaultCiphersForThisCpu =>
        System.Runtime.Intrinsics.X86.Aes.IsSupported || System.Runtime.Intrinsics.Arm.Aes.IsSupported ? AesGcmFirst : null;

    /// <summary>Seconds between keepalives; the connection is declared dead after 3 missed ones.</summary>
    public int ServerAliveIntervalSeconds { get; init; } = 15;

    /// <summary>The complete argv for one remote command.</summary>
    public string[] For(string remoteCommand)
    {
        ArgumentException.ThrowIfNullOrEmpty(remoteCommand);
        var argv = new List<string> { "ssh", "-o", "BatchMode=yes", "-o", "ClearAllForwardings=yes", "-o", "RequestTTY=no",
            "-o", $"ServerAliveInterval={ServerAliveIntervalSeconds.ToString(CultureInfo.InvariantCulture)}", "-o", "ServerAliveCountMax=3" };
        if (Port is { } port)
        {
            argv.AddRange(["-p", port.ToString(CultureInfo.InvariantCulture)]);
        }

        if (IdentityFilePath is not null)
        {
            argv.AddRange(["-i", IdentityFilePath, "-o", "IdentitiesOnly=yes"]);
        }

        if (Cipher is not null)
        {
            argv.AddRange(["-c", Cipher]);
        }

        foreach (var option in ExtraOptions)
        {
            argv.AddRange(["-o", option]);
        }

        if (Cipher is null && DefaultCiphers is not null)
        {
            argv.AddRange(["-o", $"Ciphers={DefaultCiphers}"]);
        }

        argv.AddRange([Target, "--", remoteCommand]);
        return [.. argv];
    }
}

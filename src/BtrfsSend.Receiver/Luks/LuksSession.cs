using BtrfsSend.Core.Configuration;
using BtrfsSend.Core.Errors;
using BtrfsSend.Core.Processes;
using Serilog;

namespace BtrfsSend.Receiver.Luks;

/// <summary>
/// Opens and closes the LUKS volume of the remote-btrfs mode: <c>cryptsetup luksOpen
/// --key-file=-</c> with the key piped on stdin (never argv, environment, disk or logs), then
/// <c>mount /dev/mapper/NAME LUKS_MOUNT</c>; closing unmounts and runs <c>luksClose</c>. Both are
/// idempotent. The lease records when the volume was opened, so <c>close-stale</c> can close a
/// session whose producer died.
/// </summary>
internal sealed class LuksSession
{
    private readonly ReceiverOptions _options;
    private readonly ToolRunner _tools;
    private readonly ILogger _log;

    public LuksSession(ReceiverOptions options, ToolRunner tools, ILogger log, string leaseDirPath = LuksLease.DefaultDirPath)
    {
        _options = options;
        _tools = tools;
        _log = log;
        Lease = new LuksLease(leaseDirPath, Name);
    }

    public LuksLease Lease { get; }

    public string DevicePath => _options.LuksDevicePath ?? throw Missing("LUKS_DEVICE");

    public string Name => _options.LuksName ?? throw Missing("LUKS_NAME");

    public string MountDirPath => _options.LuksMountDirPath ?? throw Missing("LUKS_MOUNT");

    public string ReceivedRootDirPath => _options.ReceivedRootDirPath ?? throw Missing("RECEIVED_ROOT");

    /// <summary>True when LUKS_MOUNT is mounted (by us or by hand).</summary>
    public bool IsMounted => MountInfo.IsMountPoint(MountDirPath);

    /// <summary>True when the four settings this mode needs are present.</summary>
    public static bool IsConfigured(ReceiverOptions options)
        => options is { LuksDevicePath: not null, LuksName: not null, LuksMountDirPath: not null, ReceivedRootDirPath: not null };

    /// <summary>
    /// Opens and mounts; a volume already mounted is left as it is (idempotent), its lease and
    /// opener too. A lease naming <paramref name="opener"/> is recorded before mounting, so a half-open volume is still closed by <c>close-stale</c>.
    /// Returns true if this call opened it.
    /// </summary>
    public async Task<bool> OpenAsync(ReadOnlyMemory<byte> key, DateTimeOffset now, string opener, CancellationToken cancellationToken = default)
    {
        if (IsMounted)
        {
            if (!Lease.Exists)
            {
                Lease.Write(now, opener);
            }

            return false;
        }

        Lease.EnsureDirectory();
        if (!File.Exists(LuksArgv.MapperPath(Name)))
        {
            var open = await _tools.TryRunAsync(LuksArgv.Open(_options.LuksToolsDirPath, DevicePath, Name), key, cancellationToken);
            if (!open.IsSuccess)
            {
                // stderr of cryptsetup never contains the key; argv has only --key-file=-.
                throw new ToolFailedException(open.Argv, open.ExitCode, open.StandardErrorTail);
            }
        }

        Lease.Write(now, opener);
        var mount = await _tools.TryRunAsync(LuksArgv.Mount(_options.LuksToolsDirPath, Name, MountDirPath), ReadOnlyMemory<byte>.Empty, cancellationToken);
        if (!mount.IsSuccess)
        {
            await CloseAsync(CancellationToken.None);
            throw new ToolFailedException(mount.Argv, mount.ExitCode, mount.StandardErrorTail);
        }

        _log.Information("LUKS volume {Name} opened and mounted on {Mount}", Name, MountDirPath);
        return true;
    }

    /// <summary>Unmounts and closes; nothing to do is success. The lease goes only once both succeeded.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (IsMounted)
        {
            await _tools.RunAsync(LuksArgv.Unmount(_options.LuksToolsDirPath, MountDirPath), ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        if (Lease.Exists || File.Exists(LuksArgv.MapperPath(Name)))
        {
            await _tools.RunAsync(LuksArgv.Close(_options.LuksToolsDirPath, Name), ReadOnlyMemory<byte>.Empty, cancellationToken);
        }

        if (Lease.Exists)
        {
            Lease.Delete();
        }

        _log.Information("LUKS volume {Name} unmounted and closed", Name);
    }

    /// <summary>Closes the session when its lease is older than LUKS_LEASE (or unreadable). Returns true if it closed it.</summary>
    public async Task<bool> CloseIfStaleAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var openedAt = Lease.TryReadOpenedAt();
        if (openedAt is null || now - openedAt.Value <= _options.LuksLease)
        {
            return false;
        }

        _log.Warning("LUKS volume {Name} has been open since {OpenedAt:yyyy-MM-ddTHH:mm:ssZ}, longer than LUKS_LEASE; closing it", Name, openedAt.Value.UtcDateTime);
        await CloseAsync(cancellationToken);
        return true;
    }

    private static ConfigException Missing(string key)
        => new($"{key} is not set in the receiver's configuration; remote-btrfs needs LUKS_DEVICE, LUKS_NAME, LUKS_MOUNT and RECEIVED_ROOT");
}

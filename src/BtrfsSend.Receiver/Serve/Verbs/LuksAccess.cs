using BtrfsSend.Core.Naming;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;
using BtrfsSend.Core.Storage;
using BtrfsSend.Receiver.Luks;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// What every remote-btrfs verb checks before it touches the LUKS volume (docs/architecture.md):
/// the mode is configured, the client may use it, and the volume's lock is held for the whole
/// verb, so a receive never overlaps a close.
/// </summary>
internal static class LuksAccess
{
    public static LuksSession OpenSession(ServeContext context)
    {
        if (!LuksSession.IsConfigured(context.Options))
        {
            throw new ServeRefusal(ErrorCodes.Disabled, $"this receiver does not serve remote-btrfs (LUKS_DEVICE, LUKS_NAME, LUKS_MOUNT and RECEIVED_ROOT are not all set); enabled: {HelloLine.EncryptedStreamMode}");
        }

        return new LuksSession(context.Options, new ToolRunner(), context.Log, context.LuksLeaseDirPath);
    }

    public static DirectoryLock LockVolume(LuksSession session)
    {
        session.Lease.EnsureDirectory();
        return DirectoryLock.TryAcquire(session.Lease.LockFilePath)
            ?? throw new ServeRefusal(ErrorCodes.Busy, $"another request holds the LUKS volume {session.Name}; try again when it has finished");
    }

    public static void RequireMounted(LuksSession session)
    {
        if (!session.IsMounted)
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"the LUKS volume is not open (LUKS_MOUNT {session.MountDirPath} is not mounted); send open-luks first");
        }

        if (!Directory.Exists(session.ReceivedRootDirPath))
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"RECEIVED_ROOT {session.ReceivedRootDirPath} does not exist on the opened volume; the admin must create it (install -d -m 0750)");
        }
    }

    /// <summary>
    /// What list-received and prune-received check before they touch one set's received
    /// subvolumes: remote-btrfs is configured, the client may use <paramref name="set"/>, the
    /// volume's lock is taken, the volume is open and the set's directory under RECEIVED_ROOT is no
    /// symbolic link. The caller holds the returned lock for the whole verb; a refusal after the lock
    /// was taken releases it here.
    /// </summary>
    public static (ReceivedStore Store, DirectoryLock VolumeLock) OpenReceivedSet(ServeContext context, BackupSet set)
    {
        var session = OpenSession(context);
        context.RequireAllowed(set);
        var volumeLock = LockVolume(session);
        try
        {
            RequireMounted(session);
            SetDirectory.RequireNoSymlink(session.ReceivedRootDirPath, set);
            return (ReceivedStoreOf(context, session), volumeLock);
        }
        catch
        {
            volumeLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// open-luks and close-luks name no set: a client may use them only when it is allowed at least
    /// one set (CLIENT_&lt;name&gt;), so a key meant for another purpose cannot touch the volume.
    /// </summary>
    public static void RequireAllowedSomeSet(ServeContext context)
    {
        if (!context.Options.IsAnySetAllowed(context.Client))
        {
            throw new ServeRefusal(ErrorCodes.Forbidden, $"client '{context.ClientLabel}' is allowed no backup set on this receiver, so it may not open or close the LUKS volume; ask the backup server's admin to add CLIENT_{context.ClientLabel}");
        }
    }

    /// <summary>The received subvolumes under the opened volume's RECEIVED_ROOT.</summary>
    public static ReceivedStore ReceivedStoreOf(ServeContext context, LuksSession session)
        => new(session.ReceivedRootDirPath, new ToolRunner(), context.Log);
}

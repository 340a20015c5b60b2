using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>close-luks</c>: only the client recorded in the lease as the opener may close the volume;
/// anything else open (another client's session, a lease without an opener, a volume mounted by
/// hand) is left to its opener, to <c>close-stale</c> after LUKS_LEASE, or to a local admin.
/// Nothing open is success.
/// </summary>
internal sealed class CloseLuksVerb(ServeContext context)
{
    public async Task<int> ServeAsync()
    {
        var session = LuksAccess.OpenSession(context);
        LuksAccess.RequireAllowedSomeSet(context);
        using var volumeLock = LuksAccess.LockVolume(session);
        if (session.Lease.Exists || session.IsMounted)
        {
            var opener = session.Lease.TryReadOpener();
            if (opener != context.ClientLabel)
            {
                context.Log.Warning("client {Client} may not close LUKS volume {Name}: opened by {Opener}", context.ClientLabel, session.Name, opener ?? "(not recorded)");
                throw new ServeRefusal(ErrorCodes.Forbidden, $"the LUKS volume was not opened by client '{context.ClientLabel}'; only its opener may close it (close-stale closes it after LUKS_LEASE)");
            }
        }

        try
        {
            // Not the request's token: a close must finish even when the client is going away.
            await session.CloseAsync(CancellationToken.None);
        }
        catch (ToolFailedException ex)
        {
            throw new ServeRefusal(ErrorCodes.IoError, $"closing the LUKS volume failed: {ex.Message}; close-stale will retry");
        }

        return 0;
    }
}

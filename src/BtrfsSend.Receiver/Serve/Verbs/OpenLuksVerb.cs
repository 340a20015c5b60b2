using System.Security.Cryptography;
using BtrfsSend.Core.Processes;
using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>open-luks</c>: reads the LUKS key from stdin (1 to 8192 bytes, zeroed after use), opens and
/// mounts the volume under its lock and records the client as the opener; idempotent.
/// </summary>
internal sealed class OpenLuksVerb(ServeContext context)
{
    public async Task<int> ServeAsync(CancellationToken cancellationToken)
    {
        var session = LuksAccess.OpenSession(context);
        LuksAccess.RequireAllowedSomeSet(context);
        var key = new byte[OpenLuksRequest.MaxKeyBytes + 1];
        try
        {
            var length = 0;
            int n;
            while (length < key.Length && (n = await context.Input.ReadAsync(key.AsMemory(length), cancellationToken)) > 0)
            {
                length += n;
            }

            if (length > OpenLuksRequest.MaxKeyBytes)
            {
                throw new ServeRefusal(ErrorCodes.TooLarge, $"the LUKS key on stdin is longer than {OpenLuksRequest.MaxKeyBytes} bytes; nothing was opened");
            }

            if (length == 0)
            {
                throw new ServeRefusal(ErrorCodes.BadCommand, "open-luks needs the LUKS key on stdin (1 to 8192 bytes); got nothing");
            }

            using var volumeLock = LuksAccess.LockVolume(session);
            try
            {
                var opened = await session.OpenAsync(key.AsMemory(0, length), context.Clock.GetUtcNow(), context.ClientLabel, cancellationToken);
                context.Log.Information("client {Client}: LUKS volume {Name} {What}", context.ClientLabel, session.Name, opened ? "opened" : "was already open");
            }
            catch (ToolFailedException ex)
            {
                throw new ServeRefusal(ErrorCodes.IoError, $"opening the LUKS volume failed: {ex.Message}");
            }

            return 0;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}

using BtrfsSend.Core.Protocol;

namespace BtrfsSend.Receiver.Serve.Verbs;

/// <summary>
/// <c>prune-received &lt;set&gt;</c>: the receiver's own policy (KEEP_*) over the set's finished
/// receives; the last snapshot acknowledged to the client is never deleted.
/// </summary>
internal sealed class PruneReceivedVerb(ServeContext context)
{
    public async Task<int> ServeAsync(PruneReceivedRequest request, CancellationToken cancellationToken)
    {
        var (store, volumeLock) = LuksAccess.OpenReceivedSet(context, request.Set);
        using (volumeLock)
        {
            await store.PruneAsync(request.Set, context.Options.Keep, context.Clock.GetUtcNow(), cancellationToken);
        }

        return 0;
    }
}
